"""jaxsci.rom: full-order PDE models and their reduced-order models -- POD-Galerkin / LSPG,
nonlinear-manifold ROMs with hyper-reduction, POD-LSTM forecasting (see docs/rom.md)."""

from ._fom import AbstractFOM as AbstractFOM
