"""jaxsci.init"""

from ._standard import glorot as glorot, he as he, linear_layers as linear_layers
from ._box import box as box, box_layer as box_layer
