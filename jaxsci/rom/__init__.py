"""jaxsci.rom: full-order PDE models for reduced-order modelling (see docs/rom.md).

Built so far: the full-order-model interface and the NM-ROM paper's 1-D inviscid Burgers
model with its backward-Euler Newton solver. The ROMs themselves (POD-Galerkin / LSPG,
nonlinear-manifold ROMs, hyper-reduction, POD-LSTM) are issue 17's open work.
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
