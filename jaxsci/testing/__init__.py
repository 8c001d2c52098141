"""Public hypothesis strategies for property-testing code built on jaxsci.

Each strategy draws NumPy arrays (float64); wrap with `jnp.asarray` as needed.
"""

from ._strategies import (
    points_in_box as points_in_box,
    rotations as rotations,
    spd_matrices as spd_matrices,
)
