"""hypothesis strategies: rotations on SO(3), SPD matrices, points in a box."""

import math

import numpy as np
from hypothesis import strategies as st


def _unit_floats() -> st.SearchStrategy[float]:
    return st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)


def _quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


@st.composite
def rotations(draw: st.DrawFn) -> np.ndarray:
    r"""Rotation matrices $R \in SO(3)$ (shape `(3, 3)`, float64).

    Uses Shoemake's subgroup algorithm: three numbers $u_1, u_2, u_3$ in $[0, 1]$ map to a
    unit quaternion, and when the $u_i$ are uniform the rotation is Haar-uniform on SO(3).
    hypothesis chooses the $u_i$ (it also tries the edges 0 and 1, giving the identity and
    half-turns), so shrinking works on the three numbers. `det(R) = 1` and
    $R^\top R = I$ to round-off.
    """
    u1, u2, u3 = (draw(_unit_floats()) for _ in range(3))
    a, b = math.sqrt(1.0 - u1), math.sqrt(u1)
    q = np.array(
        [
            a * math.sin(2 * math.pi * u2),
            a * math.cos(2 * math.pi * u2),
            b * math.sin(2 * math.pi * u3),
            b * math.cos(2 * math.pi * u3),
        ]
    )
    return _quaternion_to_matrix(q / np.linalg.norm(q))


@st.composite
def spd_matrices(
    draw: st.DrawFn,
    n: int = 3,
    min_eigenvalue: float = 0.1,
    max_eigenvalue: float = 10.0,
    distinct: float = 0.0,
) -> np.ndarray:
    r"""Symmetric positive-definite matrices $A = Q \operatorname{diag}(\lambda) Q^\top$.

    **Arguments:**
    - `n`: matrix size.
    - `min_eigenvalue`, `max_eigenvalue`: every eigenvalue $\lambda_i$ lies in this closed range
      (must satisfy `0 < min_eigenvalue <= max_eigenvalue`).
    - `distinct`: if positive, eigenvalues are at least this far apart (useful for code that
      needs a well-defined eigenbasis); `0` allows repeated eigenvalues.

    $Q$ is an orthogonal matrix: a drawn rotation for `n == 3`, else the Q factor of a drawn
    Gaussian matrix. The result is exactly symmetric (symmetrised after the product).
    """
    if not 0 < min_eigenvalue <= max_eigenvalue:
        raise ValueError(
            "spd_matrices needs 0 < min_eigenvalue <= max_eigenvalue, got "
            f"{min_eigenvalue}, {max_eigenvalue}."
        )
    if distinct * (n - 1) > max_eigenvalue - min_eigenvalue:
        raise ValueError(
            f"cannot fit {n} eigenvalues `distinct={distinct}` apart in "
            f"[{min_eigenvalue}, {max_eigenvalue}]."
        )
    eig_st = st.floats(min_eigenvalue, max_eigenvalue, allow_nan=False)
    if distinct > 0:
        # Draw gaps, then place eigenvalues so consecutive ones are >= `distinct` apart.
        slack = (max_eigenvalue - min_eigenvalue) - distinct * (n - 1)
        fracs = sorted(draw(_unit_floats()) for _ in range(n))
        lam = np.array([min_eigenvalue + slack * f + distinct * i for i, f in enumerate(fracs)])
    else:
        lam = np.array([draw(eig_st) for _ in range(n)])
    if n == 3:
        q = draw(rotations())
    else:
        g = np.array(
            [[draw(st.floats(-1.0, 1.0, allow_nan=False)) for _ in range(n)] for _ in range(n)]
        )
        g = g + 3.0 * np.eye(n)  # keeps the drawn matrix non-singular for QR
        q, _ = np.linalg.qr(g)
    a = (q * lam) @ q.T
    return 0.5 * (a + a.T)


@st.composite
def points_in_box(
    draw: st.DrawFn,
    lower: np.ndarray | list[float] | float = 0.0,
    upper: np.ndarray | list[float] | float = 1.0,
    n: int | tuple[int, int] = (1, 16),
    d: int | None = None,
) -> np.ndarray:
    """Point sets in the axis-aligned box `[lower, upper]`, shape `(n, d)`, float64.

    **Arguments:**
    - `lower`, `upper`: box corners, scalars or length-`d` sequences (`lower < upper`).
    - `n`: a fixed number of points, or an inclusive `(min, max)` range for hypothesis.
    - `d`: dimension; inferred from `lower`/`upper` if they are sequences, else required.
    """
    lo = np.atleast_1d(np.asarray(lower, dtype=np.float64))
    hi = np.atleast_1d(np.asarray(upper, dtype=np.float64))
    if d is None:
        d = max(lo.size, hi.size)
        if lo.size == hi.size == 1 and np.ndim(lower) == 0 and np.ndim(upper) == 0:
            raise ValueError("points_in_box: give `d` when `lower` and `upper` are scalars.")
    lo = np.broadcast_to(lo, (d,))
    hi = np.broadcast_to(hi, (d,))
    if np.any(lo >= hi):
        raise ValueError(f"points_in_box needs lower < upper, got {lo} and {hi}.")
    count = draw(st.integers(*n)) if isinstance(n, tuple) else n
    u = np.array(
        [[draw(_unit_floats()) for _ in range(d)] for _ in range(count)], dtype=np.float64
    ).reshape(count, d)
    return lo + (hi - lo) * u
