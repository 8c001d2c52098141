r"""The map $\Xi$ from the unit hypercube $H^q = [0, 1]^q$ to the physical parameters."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree


class ParameterBox(eqx.Module):
    r"""The cuboid $\Pi = \prod_j [p_{j,\min}, p_{j,\max}]$ and its standardisation map

    $$\Xi : H^q \to \Pi, \qquad p_j \mapsto p_{j,\min}(1 - p_j) + p_{j,\max}\, p_j$$

    (paper section 2.1). `low` and `high` are two pytrees of the same structure (usually
    a circuit's parameter `eqx.Module`) whose scalar leaves are the $q$ varied parameters,
    in leaf order.

    **Arguments:** `low`, `high` (pytrees of scalars, `low <= high` leafwise).
    """

    low: PyTree[Float[Array, ""]]
    high: PyTree[Float[Array, ""]]

    @classmethod
    def around(
        cls, nominal: PyTree[Float[Array, ""]], rel: PyTree[float] | float = 0.2
    ) -> "ParameterBox":
        r"""The box $[(1 - r_j) \bar p_j, (1 + r_j) \bar p_j]$ around the `nominal` values
        (the paper's "variation of 20% around the nominal value"); `rel` is a float or a
        pytree of floats with the structure of `nominal`."""
        if isinstance(rel, (int, float)):
            rel = jax.tree_util.tree_map(lambda _: float(rel), nominal)
        low = jax.tree_util.tree_map(lambda v, r: jnp.asarray(v) * (1 - r), nominal, rel)
        high = jax.tree_util.tree_map(lambda v, r: jnp.asarray(v) * (1 + r), nominal, rel)
        return cls(low, high)

    @property
    def q(self) -> int:
        """Number of parameters (leaves)."""
        return len(jax.tree_util.tree_leaves(self.low))

    def __call__(self, p: Float[Array, " q"]) -> PyTree[Float[Array, ""]]:
        r"""$\Xi(p)$: unit-cube coordinates `p` (shape `(q,)`) to physical parameters."""
        p = jnp.asarray(p)
        if p.ndim != 1 or p.shape[0] != self.q:
            raise ValueError(
                f"`p` must have shape ({self.q},) (one coordinate per parameter), got "
                f"{p.shape}. Use jax.vmap for a batch of samples."
            )
        lo, treedef = jax.tree_util.tree_flatten(self.low)
        hi = jax.tree_util.tree_leaves(self.high)
        vals = [
            jnp.asarray(a, p.dtype) * (1 - p[j]) + jnp.asarray(b, p.dtype) * p[j]
            for j, (a, b) in enumerate(zip(lo, hi))
        ]
        return jax.tree_util.tree_unflatten(treedef, vals)

    def inverse(self, params: PyTree[Float[Array, ""]]) -> Float[Array, " q"]:
        r"""$\Xi^{-1}$: physical parameters to unit-cube coordinates."""
        lo = jax.tree_util.tree_leaves(self.low)
        hi = jax.tree_util.tree_leaves(self.high)
        x = jax.tree_util.tree_leaves(params)
        return jnp.stack(
            [(jnp.asarray(v) - a) / (jnp.asarray(b) - a) for v, a, b in zip(x, lo, hi)]
        )
