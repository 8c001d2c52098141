r"""Time-delay (Hankel) DMD.

Arbabi & Mezić, "Ergodic theory, dynamic mode decomposition and computation of spectral
properties of the Koopman operator", SIAM J. Appl. Dyn. Syst. 16 (2017), Sec. 4 (Hankel DMD);
Brunton et al., "Chaos as an intermittently forced linear system", Nat. Commun. 8 (2017).
Delay embedding turns a scalar observable, such as the training loss $L(t)$ (Dogra 2020,
Sec. III), into a vector observable on which exact DMD is run:

$$H = \begin{bmatrix} x_0 & x_1 & \cdots & x_{m-q} \\ \vdots & & & \vdots \\
x_{q-1} & x_q & \cdots & x_{m-1}\end{bmatrix} \in \mathbb{R}^{(nq)\times(m-q+1)}.$$
"""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_nonempty
from .._misc import as_float_array
from ._dmd import DMD, dmd


def hankel_matrix(snapshots: Float[Array, "n m"], delays: int) -> Float[Array, "nq m-q+1"]:
    r"""Stack `delays` = $q$ time-shifted copies of the `(n, m)` snapshot matrix (the block
    row $i$ is $[x_i, \dots, x_{i+m-q}]$).

    **Raises:** `ValueError` for `snapshots` that are not a non-empty `(n, m)` matrix (a
    scalar series is `(1, m)`) or `delays` outside `[1, m - 1]`."""
    snapshots = as_float_array(snapshots, "snapshots")
    if snapshots.ndim != 2:
        raise ValueError(
            f"`snapshots` must be (n, m) (a scalar series as (1, m)), got shape {snapshots.shape}."
        )
    check_nonempty(snapshots, "snapshots", axis=0, what="state components (rows)")
    m = snapshots.shape[1]
    if (isinstance(delays, bool) or not isinstance(delays, (int, np.integer))
            or not 1 <= delays <= m - 1):
        raise ValueError(
            f"`delays` must be an int in [1, m - 1 = {m - 1}] for {m} snapshots, got {delays!r}."
        )
    delays = int(delays)
    cols = m - delays + 1
    return jnp.concatenate([snapshots[:, i : i + cols] for i in range(delays)], axis=0)


class HankelDMD(eqx.Module):
    r"""Exact DMD of the delay-embedded snapshots.

    **Attributes:**
    - `dmd`: the `DMD` of the Hankel matrix (eigenvalues are those of the delay system).
    - `last`: the last `delays` snapshots, time first, `(delays, n)`: the state from which
      `forecast(model.last, steps)` continues the data.
    - `delays`: $q$ (static).
    """

    dmd: DMD
    last: Float[Array, "q n"]
    delays: int = eqx.field(static=True)

    @property
    def eigenvalues(self):
        """The discrete-time eigenvalues of the delay system (`dmd.eigenvalues`)."""
        return self.dmd.eigenvalues

    @property
    def continuous_eigenvalues(self):
        """The continuous-time eigenvalues (`dmd.continuous_eigenvalues`)."""
        return self.dmd.continuous_eigenvalues

    def reconstruct(self, times: Float[Array, "..."]) -> Float[Array, "... n"]:
        """The (model of the) original snapshots at `times` (0 = first snapshot, valid for
        `times >= 0`; the first block row of the Hankel reconstruction), time first: shape
        `times.shape + (n,)`."""
        n = self.last.shape[-1]
        return self.dmd.reconstruct(times)[..., :n]

    def forecast(self, x0: Float[Array, "q n"], steps: Float[Array, "..."]) -> Float[Array, "... n"]:
        r"""Predict the state `steps` $s \ge 0$ snapshot intervals after the last row of `x0`
        (the delay vector of `x0` evolved by `DMD.forecast`, its last block row).

        **Arguments:**

        - `x0`: a window of `delays` consecutive snapshots, time first, `(delays, n)`
            (`model.last` continues the fitted data).
        - `steps`: an array (or scalar) of non-negative real step counts.

        **Returns:** the forecast states, time first: shape `steps.shape + (n,)`; `steps = 0`
        gives `x0[-1]`.
        """
        n = self.last.shape[-1]
        x0 = jnp.asarray(x0)
        if x0.shape != self.last.shape:
            raise ValueError(
                f"`x0` must be a window of {self.delays} snapshots of shape {self.last.shape} "
                f"(time first, like `model.last`), got shape {x0.shape}."
            )
        return self.dmd.forecast(x0.reshape(-1), steps)[..., -n:]


def hankel_dmd(
    snapshots: Float[Array, "n m"],
    delays: int,
    *,
    rank: int | None = None,
    rtol: float | None = None,
    dt: float = 1.0,
) -> HankelDMD:
    r"""Hankel DMD of `(n, m)` snapshots with `delays` delay copies; `rank`, `rtol`, `dt` as in
    `dmd`. A scalar series is passed as a `(1, m)` matrix. Errors as in `hankel_matrix` and
    `dmd` (NaN/inf snapshots are refused by name)."""
    h = hankel_matrix(snapshots, delays)
    delays = int(delays)
    last = h[:, -1].reshape(delays, -1)  # block row i of the last column is x_{m-q+i}
    return HankelDMD(dmd(h, rank=rank, rtol=rtol, dt=dt), last, delays)
