r"""The map $\Xi$ from the unit hypercube $H^q = [0, 1]^q$ to the physical parameters."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PyTree

from .._checks import check_value, is_concrete
from ._validate import nonfinite, refuse_if


def check_unit_samples(p: Float[Array, "..."], name: str = "samples") -> Float[Array, "..."]:
    """Tier 2: unit-hypercube coordinates must be finite and lie in [0, 1]."""
    p = refuse_if(
        p,
        nonfinite,
        f"`{name}` contains NaN or inf: unit-hypercube coordinates must be finite numbers "
        "in [0, 1]. Remove or resample those points.",
    )
    return refuse_if(
        p,
        lambda xp, x: (x < 0) | (x > 1),
        f"`{name}` has coordinates outside the unit hypercube [0, 1]^q (the box map Xi "
        "extrapolates there, giving parameters outside the box). Rescale the samples into "
        "[0, 1], or widen the parameter box.",
    )


class ParameterBox(eqx.Module):
    r"""The cuboid $\Pi = \prod_j [p_{j,\min}, p_{j,\max}]$ and its standardisation map

    $$\Xi : H^q \to \Pi, \qquad p_j \mapsto p_{j,\min}(1 - p_j) + p_{j,\max}\, p_j$$

    (paper section 2.1). `low` and `high` are two pytrees of the same structure (usually
    a circuit's parameter `eqx.Module`) whose scalar leaves are the $q$ varied parameters,
    in leaf order.

    **Arguments:** `low`, `high` (pytrees of scalars, `low <= high` leafwise).

    **Raises:** `ValueError` if `low` and `high` differ in structure or shape, or (for
    concrete values) contain NaN/inf or have `low > high`; calling the box on a `p` of the
    wrong shape, or (value check, also under `jit`/`vmap`) outside $[0, 1]^q$ or non-finite.
    """

    low: PyTree[Float[Array, ""]]
    high: PyTree[Float[Array, ""]]

    def __check_init__(self):
        lo, t_lo = jax.tree_util.tree_flatten(self.low)
        hi, t_hi = jax.tree_util.tree_flatten(self.high)
        if t_lo != t_hi or any(jnp.shape(a) != jnp.shape(b) for a, b in zip(lo, hi)):
            raise ValueError(
                "`low` and `high` of a ParameterBox must have the same structure and leaf "
                f"shapes, got {t_lo} with shapes {[jnp.shape(a) for a in lo]} and {t_hi} "
                f"with shapes {[jnp.shape(b) for b in hi]}."
            )
        if not (is_concrete(lo) and is_concrete(hi)):
            return
        for name, leaves in (("low", lo), ("high", hi)):
            if not all(np.all(np.isfinite(np.asarray(x))) for x in leaves):
                raise ValueError(
                    f"`{name}` of a ParameterBox contains NaN or inf; give finite bounds."
                )
        bad = [j for j, (a, b) in enumerate(zip(lo, hi)) if np.any(np.asarray(a) > np.asarray(b))]
        if bad:
            raise ValueError(
                f"ParameterBox needs `low <= high` leafwise; leaves {bad} have low > high "
                "(e.g. a negative nominal value with `around`). Swap the bounds."
            )

    @classmethod
    def around(
        cls, nominal: PyTree[Float[Array, ""]], rel: PyTree[float] | float = 0.2
    ) -> "ParameterBox":
        r"""The box $[(1 - r_j) \bar p_j, (1 + r_j) \bar p_j]$ around the `nominal` values
        (the paper's "variation of 20% around the nominal value"); `rel` is a float or a
        pytree of floats with the structure of `nominal`.

        **Raises:** `ValueError` if a `rel` is negative or non-finite (a concrete value;
        traced values are checked when the program runs), or `rel` and `nominal` differ in
        structure."""
        if isinstance(rel, (int, float)):
            rel = jax.tree_util.tree_map(lambda _: float(rel), nominal)
        if jax.tree_util.tree_structure(rel) != jax.tree_util.tree_structure(nominal):
            raise ValueError(
                "`rel` must be a float or a pytree with the structure of `nominal`, got "
                f"{jax.tree_util.tree_structure(rel)} for {jax.tree_util.tree_structure(nominal)}."
            )
        def check_rel(r):
            msg = "`rel` must be finite and >= 0 (a relative half-width such as 0.2 for +-20 %)"
            if is_concrete(r):
                v = np.asarray(r)
                if not (np.all(v >= 0) and np.all(np.isfinite(v))):
                    raise ValueError(f"{msg}, got {r!r}.")
                return r
            return check_value(r, ~(r >= 0) | ~jnp.isfinite(r), msg + ".")

        rel = jax.tree_util.tree_map(check_rel, rel)
        low = jax.tree_util.tree_map(lambda v, r: jnp.asarray(v) * (1 - r), nominal, rel)
        high = jax.tree_util.tree_map(lambda v, r: jnp.asarray(v) * (1 + r), nominal, rel)
        return cls(low, high)

    @property
    def q(self) -> int:
        """Number of parameters (leaves)."""
        return len(jax.tree_util.tree_leaves(self.low))

    def __call__(self, p: Float[Array, " q"]) -> PyTree[Float[Array, ""]]:
        r"""$\Xi(p)$: unit-cube coordinates `p` (shape `(q,)`) to physical parameters.

        **Raises:** `ValueError` for a wrong shape (trace time) and for NaN/inf or
        coordinates outside $[0, 1]$ (value check: `ValueError` eagerly,
        `EquinoxRuntimeError` under `jit`/`vmap`)."""
        p = jnp.asarray(p)
        if p.ndim != 1 or p.shape[0] != self.q:
            raise ValueError(
                f"`p` must have shape ({self.q},) (one coordinate per parameter), got "
                f"{p.shape}. Use jax.vmap for a batch of samples."
            )
        if not jnp.issubdtype(p.dtype, jnp.floating):
            p = p.astype(jnp.result_type(float))
        return self.map_unchecked(check_unit_samples(p, "p"))

    def map_unchecked(self, p: Float[Array, " q"]) -> PyTree[Float[Array, ""]]:
        r"""$\Xi(p)$ without the value check of `p` (for samples already checked, as
        `sweep` does once for all of them)."""
        lo, treedef = jax.tree_util.tree_flatten(self.low)
        hi = jax.tree_util.tree_leaves(self.high)
        vals = [
            jnp.asarray(a, p.dtype) * (1 - p[j]) + jnp.asarray(b, p.dtype) * p[j]
            for j, (a, b) in enumerate(zip(lo, hi))
        ]
        return jax.tree_util.tree_unflatten(treedef, vals)

    def inverse(self, params: PyTree[Float[Array, ""]]) -> Float[Array, " q"]:
        r"""$\Xi^{-1}$: physical parameters to unit-cube coordinates.

        A degenerate parameter (`low == high`) maps to 0 (every $p$ gives the same value).
        Values outside the box give coordinates outside $[0, 1]$ (not an error).

        **Raises:** `ValueError` if `params` does not have the structure of the box."""
        lo = jax.tree_util.tree_leaves(self.low)
        hi = jax.tree_util.tree_leaves(self.high)
        x = jax.tree_util.tree_leaves(params)
        if len(x) != len(lo):
            raise ValueError(
                f"`params` must have the {len(lo)} leaves of the box, got {len(x)} leaves."
            )

        def coord(v, a, b):
            width = jnp.asarray(b) - a
            safe = jnp.where(width == 0, 1.0, width)
            return jnp.where(width == 0, 0.0, (jnp.asarray(v) - a) / safe)

        return jnp.stack([coord(v, a, b) for v, a, b in zip(x, lo, hi)])
