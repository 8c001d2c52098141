"""jaxsci.koopman: DMD / EDMD / Hankel DMD, Koopman prediction of neural-network training,
Koopman training (Dogra & Redman 2020) and the Koopman-guided scale-up strategy (Dogra 2020)."""

from ._dmd import DMD as DMD, dmd as dmd, dmd_from_pairs as dmd_from_pairs, stabilized as stabilized
from ._edmd import (
    EDMD as EDMD,
    AbstractDictionary as AbstractDictionary,
    FunctionDictionary as FunctionDictionary,
    Monomials as Monomials,
    RadialBasis as RadialBasis,
    edmd as edmd,
)
from ._hankel import HankelDMD as HankelDMD, hankel_dmd as hankel_dmd, hankel_matrix as hankel_matrix
from ._predict import (
    WeightKoopman as WeightKoopman,
    fit_weight_koopman as fit_weight_koopman,
    iterations_to_reach as iterations_to_reach,
    predict_loss_at_weights as predict_loss_at_weights,
    predict_loss_observable as predict_loss_observable,
)
from ._scale_up import scale_up as scale_up
from ._training import koopman_train as koopman_train
