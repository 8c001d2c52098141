"""jaxsci.nn: adaptive-basis networks (hidden basis + linear head), partitions of unity,
polynomial spaces and POUnets; recurrent cells, sequence wrappers, attention / Transformer
blocks and the continuous-time firing-rate RNN."""

from ._base import AbstractAdaptiveBasisNet as AbstractAdaptiveBasisNet
from ._mlp import (
    AbstractLayeredNet as AbstractLayeredNet,
    LayerView as LayerView,
    layer_view as layer_view,
    MLP as MLP,
)
from ._partition import (
    AbstractPartition as AbstractPartition,
    RBFPartition as RBFPartition,
    ResNetPartition as ResNetPartition,
)
from ._polynomial import LegendreSpace as LegendreSpace
from ._pounet import POUNet as POUNet
from ._resnet import ResNet as ResNet
from ._recurrent import (
    ElmanCell as ElmanCell,
    GRUCell as GRUCell,
    LSTMCell as LSTMCell,
    PeepholeLSTMCell as PeepholeLSTMCell,
    scan_cell as scan_cell,
)
from ._sequence import Bidirectional as Bidirectional, Stacked as Stacked
from ._attention import (
    MultiHeadAttention as MultiHeadAttention,
    scaled_dot_product_attention as scaled_dot_product_attention,
    sinusoidal_position_encoding as sinusoidal_position_encoding,
    TransformerEncoderBlock as TransformerEncoderBlock,
)
from ._firing_rate import FiringRateRNN as FiringRateRNN, simulate_firing_rate as simulate_firing_rate
