"""jaxsci.rom: full-order PDE models and reduced-order models (see docs/rom.md).

Built so far: the full-order-model interface, the NM-ROM paper's 1-D inviscid Burgers model
with its backward-Euler Newton solver, DEIM / gappy POD, and POD-Galerkin / LSPG ROMs.
Nonlinear-manifold ROMs, hyper-reduction and POD-LSTM are issue 17's open work.
"""

from ._burgers1d import Burgers1D as Burgers1D
from ._deim import deim_indices as deim_indices, gappy_projector as gappy_projector
from ._fom import AbstractFOM as AbstractFOM
from ._linear import (
    galerkin_rom as galerkin_rom,
    lspg_rom as lspg_rom,
    relative_error as relative_error,
)
from ._solve import solve_fom as solve_fom

# rom2: 2-D viscous Burgers FOM and POD-LSTM
from ._burgers2d import Burgers2D as Burgers2D
from ._pod_lstm import (
    forecast_loss as forecast_loss,
    moving_windows as moving_windows,
    pod_coefficients as pod_coefficients,
    PODLSTM as PODLSTM,
    rollout as rollout,
)
