"""jaxsci.init"""

from ._standard import (
    glorot as glorot,
    he as he,
    layer_blocks as layer_blocks,
    linear_layers as linear_layers,
    replace_layer_blocks as replace_layer_blocks,
)
from ._relu import (
    AbstractReLUInit as AbstractReLUInit,
    NormalInit as NormalInit,
    UnitHypersphereInit as UnitHypersphereInit,
    lift_to_sphere as lift_to_sphere,
    normalize_to_unit_ball as normalize_to_unit_ball,
    per_layer_schemes as per_layer_schemes,
    relu_init as relu_init,
    sample_relu_params as sample_relu_params,
)
from ._data_dependent import (
    data_dependent_expected_q as data_dependent_expected_q,
    data_dependent_init as data_dependent_init,
    data_dependent_sigma_out as data_dependent_sigma_out,
)
from ._box import box as box, box_layer as box_layer
