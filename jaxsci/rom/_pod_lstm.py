r"""POD-LSTM: forecast the POD coefficients of a flow with an (Bi)LSTM (Mohan & Gaitonde).

Mohan & Gaitonde (arXiv:1804.09269, 2018; review seed 002, §2.3.3 and §12) reduce DNS
snapshots by POD, $x(t) \approx \bar x + \sum_{i=1}^{r} \phi_i\, a_i(t)$ (snapshot POD =
thin SVD of the centred snapshot matrix; review §12, eqs. 3-4), cut the modal coefficients
$a(t) \in \mathbb{R}^r$ into moving windows, and train a single-layer LSTM (or BiLSTM) to map
a window of $w$ past coefficient vectors to the next ones; forecasting is autoregressive (each
prediction is appended to the window). Their finding: the LSTM beats the BiLSTM (Fig. 20).

Their data (JHU turbulence database, forced isotropic and MHD turbulence) are not available
here, so `examples/pod_lstm.py` uses the snapshots of our 2-D viscous Burgers FOM
(`Burgers2D`) instead.

Pieces (compose them; `jaxsci.train.fit` with `optax.adam` trains, one jitted loop):

- `pod_coefficients(snapshots, rank)` -> `(pod, mean, coefficients)`;
- `moving_windows(series, window, horizon)` -> `(inputs, targets)`;
- `PODLSTM(n_modes, hidden_size, key=..., bidirectional=False)`: one window -> next
  coefficients, in increment form $a_{t+1} = a_t + s \odot W h + b$ on standardised
  coefficients ($s$ the per-mode scale of the training data);
- `rollout(model, window, n_steps)`: autoregressive forecast;
- `forecast_loss(model, (inputs, targets))`: mean squared standardised error of the
  `horizon`-step rollout (horizon = window length is the paper's half/half split).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr

from .._checks import require_positive_int
from .._custom_types import Array, Float, PRNGKeyArray
from .._misc import as_float_array
from ..nn import LSTMCell, scan_cell
from ..surrogates import POD, pod


def pod_coefficients(
    snapshots: Float[Array, "T N"], rank: int
) -> tuple[POD, Float[Array, " N"], Float[Array, "T r"]]:
    r"""POD of centred snapshots and their modal coefficients (review §12, eqs. 3-4).

    **Arguments:** `snapshots` $(T, N)$, one state per row (e.g. `solve_fom(...).value`);
    `rank` $r$, the number of modes kept (Mohan & Gaitonde: 5).

    **Returns:** `(pod, mean, coefficients)`: a `surrogates.POD` with basis $\Phi$ `(N, r)`,
    the temporal mean $\bar x$ `(N,)` and $a(t_k) = \Phi^\top (x_k - \bar x)$ `(T, r)`;
    reconstruct with `mean + pod.basis @ a`.
    """
    x = as_float_array(snapshots, "snapshots")
    if x.ndim != 2:
        raise ValueError(f"`snapshots` must have shape (T, N), got {x.shape}.")
    rank = require_positive_int(rank, "rank")
    mean = jnp.mean(x, axis=0)
    modes = pod((x - mean[None]).T, rank=rank)
    return modes, mean, (x - mean[None]) @ modes.basis


def moving_windows(
    series: Float[Array, "T r"], window: int, horizon: int = 1
) -> tuple[Float[Array, "n window r"], Float[Array, "n horizon r"]]:
    r"""All windows of `window` consecutive rows and the `horizon` rows after each.

    Sample $k$ has input `series[k : k + window]` and target
    `series[k + window : k + window + horizon]`, $k = 0, \dots, n - 1$ with
    $n = T - $ `window` $-$ `horizon` $+ 1$.
    """
    s = as_float_array(series, "series")
    if s.ndim != 2:
        raise ValueError(f"`series` must have shape (T, r), got {s.shape}.")
    window = require_positive_int(window, "window")
    horizon = require_positive_int(horizon, "horizon")
    n = s.shape[0] - window - horizon + 1
    if n < 1:
        raise ValueError(
            f"`series` has {s.shape[0]} rows: too few for window={window} plus "
            f"horizon={horizon}; shorten the window or give a longer series."
        )
    idx = jnp.arange(n)[:, None] + jnp.arange(window + horizon)[None, :]
    chunks = s[idx]
    return chunks[:, :window], chunks[:, window:]


class PODLSTM(eqx.Module):
    r"""Single-layer LSTM (or BiLSTM) forecaster of POD coefficients (Mohan & Gaitonde 2018).

    On a window $a_{t-w+1}, \dots, a_t$ standardised as $z = (a - m) / s$: the LSTM
    (`nn.LSTMCell` unrolled by `nn.scan_cell`) gives its last hidden state $h$; the BiLSTM
    also runs a second cell from $z_t$ back to $z_{t-w+1}$ and concatenates its final hidden
    state. A linear head predicts the standardised increment:
    $a_{t+1} = a_t + s \odot (W h + b)$.

    **Arguments:** `n_modes` $r$; `hidden_size`; `key`; `bidirectional`; `shift` $m$ and
    `scale` $s$ `(r,)` (default 0 and 1; pass the training coefficients' mean and standard
    deviation); `dtype`.

    Call `model(window)` with `window` `(w, r)`; returns `(r,)`.
    """

    cell: LSTMCell
    cell_reverse: LSTMCell | None
    head_weight: Float[Array, "r features"]
    head_bias: Float[Array, " r"]
    shift: Float[Array, " r"]
    scale: Float[Array, " r"]
    n_modes: int = eqx.field(static=True)
    bidirectional: bool = eqx.field(static=True)

    def __init__(
        self,
        n_modes: int,
        hidden_size: int,
        *,
        key: PRNGKeyArray,
        bidirectional: bool = False,
        shift: Float[Array, " r"] | None = None,
        scale: Float[Array, " r"] | None = None,
        dtype=None,
    ):
        n_modes = require_positive_int(n_modes, "n_modes")
        hidden_size = require_positive_int(hidden_size, "hidden_size")
        if not isinstance(bidirectional, bool):
            raise TypeError(f"`bidirectional` must be a bool, got {bidirectional!r}.")
        dtype = jnp.dtype(float) if dtype is None else jnp.dtype(dtype)
        k1, k2, k3 = jr.split(key, 3)
        self.cell = LSTMCell(n_modes, hidden_size, key=k1, dtype=dtype)
        self.cell_reverse = LSTMCell(n_modes, hidden_size, key=k2, dtype=dtype) if bidirectional else None
        features = hidden_size * (2 if bidirectional else 1)
        # small head: the untrained model starts near persistence, a_{t+1} = a_t
        self.head_weight = 0.1 * jr.normal(k3, (n_modes, features), dtype) / features**0.5
        self.head_bias = jnp.zeros(n_modes, dtype)
        self.shift = self._vector(shift, 0.0, n_modes, dtype, "shift")
        self.scale = self._vector(scale, 1.0, n_modes, dtype, "scale")
        self.n_modes, self.bidirectional = n_modes, bidirectional

    @staticmethod
    def _vector(value, default, n, dtype, name):
        if value is None:
            return jnp.full(n, default, dtype)
        value = jnp.asarray(as_float_array(value, name), dtype)
        if value.shape != (n,):
            raise ValueError(f"`{name}` must have shape ({n},), got {value.shape}.")
        return value

    def features(self, window: Float[Array, "w r"]) -> Float[Array, " features"]:
        """The final hidden state(s) on the standardised window (concatenated for BiLSTM)."""
        z = (window - self.shift[None]) / self.scale[None]
        zeros = jnp.zeros(self.cell.hidden_size, z.dtype)
        (h, _), _ = scan_cell(self.cell, z, (zeros, zeros))
        if self.cell_reverse is None:
            return h
        (h_back, _), _ = scan_cell(self.cell_reverse, z, (zeros, zeros), reverse=True)
        return jnp.concatenate([h, h_back])

    def __call__(self, window: Float[Array, "w r"]) -> Float[Array, " r"]:
        window = as_float_array(window, "window")
        if window.ndim != 2 or window.shape[1] != self.n_modes or window.shape[0] < 1:
            raise ValueError(
                f"`window` must have shape (w, {self.n_modes}) with w >= 1 (one sample; vmap "
                f"for batches), got {window.shape}."
            )
        dz = self.head_weight @ self.features(window) + self.head_bias
        return window[-1] + self.scale * dz


def rollout(
    model: PODLSTM, window: Float[Array, "w r"], n_steps: int
) -> Float[Array, "n_steps r"]:
    r"""Autoregressive forecast: predict $a_{t+1}$, append it to the window, drop the oldest
    entry, repeat `n_steps` times (a `lax.scan`). Returns the `n_steps` predictions."""
    if not isinstance(model, PODLSTM):
        raise TypeError(f"`model` must be a rom.PODLSTM, got {type(model).__name__}.")
    n_steps = require_positive_int(n_steps, "n_steps")
    window = as_float_array(window, "window")
    model(window)  # shape checks once, at trace time

    def step(w, _):
        nxt = model(w)
        return jnp.concatenate([w[1:], nxt[None]]), nxt

    return jax.lax.scan(step, window, None, length=n_steps)[1]


def forecast_loss(
    model: PODLSTM, data: tuple[Float[Array, "n w r"], Float[Array, "n horizon r"]]
) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
    r"""Mean squared error of the `horizon`-step rollouts, in standardised units:
    $\frac{1}{n\,H\,r}\sum_{k,j,i} \big((\hat a^{(k)}_{j,i} - a^{(k)}_{j,i}) / s_i\big)^2$.

    `data` = `(inputs, targets)` from `moving_windows`. Returns `(loss, {"mse": loss})`,
    the `jaxsci.train.fit` loss signature.
    """
    inputs, targets = data
    inputs = as_float_array(inputs, "inputs")
    targets = as_float_array(targets, "targets")
    if inputs.ndim != 3 or targets.ndim != 3 or inputs.shape[0] != targets.shape[0] or (
        inputs.shape[2] != targets.shape[2]
    ):
        raise ValueError(
            "`data` must be (inputs (n, w, r), targets (n, horizon, r)) from moving_windows, "
            f"got shapes {inputs.shape} and {targets.shape}."
        )
    pred = jax.vmap(lambda w: rollout(model, w, targets.shape[1]))(inputs)
    loss = jnp.mean(((pred - targets) / model.scale[None, None]) ** 2)
    return loss, {"mse": loss}
