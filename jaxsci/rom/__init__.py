"""jaxsci.rom: full-order PDE models and reduced-order models (see docs/rom.md).

Built so far: the full-order-model interface, the NM-ROM paper's 1-D inviscid and 2-D
viscous Burgers models with their backward-Euler Newton solvers, DEIM / gappy POD,
POD-Galerkin / LSPG, the masked autoencoder and its training, NM-Galerkin / NM-LSPG and the
hyper-reduced NM-LSPG solver. POD-LSTM pieces (coefficients, moving windows, (Bi)LSTM forecaster, rollout) exist; their example is open work.
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

# 2-D viscous Burgers FOM
from ._burgers2d import Burgers2D as Burgers2D

# --- nonlinear-manifold ROMs and hyper-reduction (issue 17, helper nmrom) ---
from ._autoencoder import (
    AbstractManifold as AbstractManifold,
    LinearManifold as LinearManifold,
    MaskedAutoencoder as MaskedAutoencoder,
)
from ._train_autoencoder import (
    reconstruction_loss as reconstruction_loss,
    train_autoencoder as train_autoencoder,
)
from ._manifold import nm_galerkin_rom as nm_galerkin_rom, nm_lspg_rom as nm_lspg_rom
from ._hyper_manifold import (
    HyperReduction as HyperReduction,
    hyper_reduction as hyper_reduction,
    nm_lspg_hr_rom as nm_lspg_hr_rom,
    residual_snapshots as residual_snapshots,
)
from ._pod_lstm import (
    forecast_loss as forecast_loss,
    moving_windows as moving_windows,
    pod_coefficients as pod_coefficients,
    PODLSTM as PODLSTM,
    rollout as rollout,
)
