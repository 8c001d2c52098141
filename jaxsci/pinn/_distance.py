r"""Hard boundary constraints by approximate distance functions (ADFs; Sukumar &
Srivastava 2022, CMAME 389):

$$u(x) = g(x) + \phi(x)\, N(x)$$

(their eq. 7 for Dirichlet data), $\phi = 0$ exactly on the constrained boundary and
$\phi > 0$ inside, so $u = g$ there whatever the network $N$ outputs. For the faces of a
box, $\phi_f$ is the signed distance to face $f$ (exact for a hyperplane) and the faces
are joined by the R-equivalence conjunction of order $m = 0$ (their eq. 13):
$\phi_1 \wedge \phi_2 = \phi_1 + \phi_2 - \sqrt{\phi_1^2 + \phi_2^2}$, which keeps $\phi$
normalised ($\partial\phi/\partial n = 1$) on every face away from corners.
"""

from collections.abc import Callable, Sequence

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._misc import safe_sqrt
from ._sampling import Box


def _r_conjunction(a, b):
    return a + b - safe_sqrt(a * a + b * b)


class BoxDistance(eqx.Module):
    r"""ADF of chosen faces of a `Box` (Sukumar & Srivastava 2022, eqs. 13, 27):
    $\phi = \phi_{f_1} \wedge \dots \wedge \phi_{f_q}$ with $\phi_f = x_a - \ell_a$ (lower
    face of axis $a$) or $u_a - x_a$ (upper face), joined by the R-conjunction.

    **Arguments:** `box`; `faces`, a tuple of `(axis, side)` pairs, `side` 0 for the lower
    and 1 for the upper face, e.g. `((0, 0), (0, 1), (1, 0))` for the boundaries
    $x = \ell_0, u_0$ and the initial time of an $(x, t)$ box.

    **Raises:** `TypeError` if `box` is not a `Box`; `ValueError` for an empty `faces`, an
    axis outside the box or a side not in {0, 1}; calling on anything but one point of the
    box's dimension raises `ValueError`.
    """

    box: Box
    faces: tuple[tuple[int, int], ...] = eqx.field(static=True)

    def __init__(self, box: Box, faces: Sequence[tuple[int, int]]):
        if not isinstance(box, Box):
            raise TypeError(f"`box` must be a Box, got {type(box).__name__}.")
        if not isinstance(faces, (tuple, list)) or len(faces) == 0:
            raise ValueError(f"`faces` must be a non-empty tuple of (axis, side) pairs, got "
                             f"{faces!r}.")
        out = []
        for f in faces:
            ok = isinstance(f, (tuple, list)) and len(f) == 2 and all(
                isinstance(v, int) and not isinstance(v, bool) for v in f)
            if not ok or not 0 <= f[0] < box.dim or f[1] not in (0, 1):
                raise ValueError(f"every entry of `faces` must be (axis, side) with 0 <= axis < "
                                 f"{box.dim} and side 0 (lower) or 1 (upper), got {f!r}.")
            out.append((int(f[0]), int(f[1])))
        self.box = box
        self.faces = tuple(out)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        if not hasattr(x, "ndim") or x.shape != (self.box.dim,):
            raise ValueError(f"`x` must be ONE point of shape ({self.box.dim},), got shape "
                             f"{getattr(x, 'shape', type(x))}; batch with jax.vmap.")
        lo = self.box.lower.astype(x.dtype)
        hi = self.box.upper.astype(x.dtype)
        phi = None
        for axis, side in self.faces:
            d = x[axis] - lo[axis] if side == 0 else hi[axis] - x[axis]
            phi = d if phi is None else _r_conjunction(phi, d)
        return phi


class DistanceConstrainedModel(eqx.Module):
    r"""$u(x) = g(x) + \phi(x)\, N(x)$ (Sukumar & Srivastava 2022, eq. 7): Dirichlet data
    $g$ imposed exactly where $\phi = 0$.

    **Arguments:** `network` $N$ (one point to a scalar or shape-(1,) output), `boundary`
    $g$ (a smooth extension of the data into the domain, pointwise), `distance` $\phi$
    (e.g. `BoxDistance`), all callables on one point.

    **Raises:** `TypeError` if any of them is not callable.
    """

    network: Callable
    boundary: Callable
    distance: Callable

    def __check_init__(self):
        for name in ("network", "boundary", "distance"):
            if not callable(getattr(self, name)):
                raise TypeError(f"`{name}` must be a callable on one point, got "
                                f"{type(getattr(self, name)).__name__}.")

    def __call__(self, x: Float[Array, " d"], *, key=None) -> Float[Array, ""]:
        return self.boundary(x) + self.distance(x) * jnp.reshape(self.network(x), ())
