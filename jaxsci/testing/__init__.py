"""Public hypothesis strategies and checks for property-testing code built on jaxsci.

Each strategy draws NumPy arrays (float64); wrap with `jnp.asarray` as needed.
`assert_refuses` checks the bad-input contract (DESIGN rule 6): a clear error or a failed
`Solution`, never a silent NaN/inf or meaningless finite result.
"""

from ._bad_inputs import (
    REFUSAL_ERRORS as REFUSAL_ERRORS,
    assert_refuses as assert_refuses,
    empty_like_shape as empty_like_shape,
    mismatched_shapes as mismatched_shapes,
    non_spd_matrices as non_spd_matrices,
    with_nonfinite as with_nonfinite,
)
from ._strategies import (
    points_in_box as points_in_box,
    rotations as rotations,
    spd_matrices as spd_matrices,
)
