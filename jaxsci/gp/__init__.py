"""jaxsci.gp: exact Gaussian-process regression, derivative observations, multistart fitting.

Implements Frankel et al. (first seed paper), section 3 (eqs. 4-12) and section 5
(eqs. 35-40). See docs/gp.md.
"""

from ._checks import DEFAULT_NOISE as DEFAULT_NOISE
from ._coregion import (
    Coregionalization as Coregionalization,
    ICM as ICM,
    LCM as LCM,
    predict_outputs as predict_outputs,
    stack_isotopic as stack_isotopic,
    stack_outputs as stack_outputs,
)
from ._derivative import (
    derivative_gram as derivative_gram,
    gradient_observations as gradient_observations,
    observation_covariance as observation_covariance,
)
from ._fit import fit as fit
from ._fit_batched import fit_batched as fit_batched
from ._pool_size import default_batch_size as default_batch_size
from ._lml import log_marginal_likelihood as log_marginal_likelihood
from ._posterior import (
    condition as condition,
    Posterior as Posterior,
    predict as predict,
    predict_value_and_grad as predict_value_and_grad,
)
from ._mean import (
    AbstractMean as AbstractMean,
    ConstantMean as ConstantMean,
    LinearMean as LinearMean,
    ZeroMean as ZeroMean,
)
from ._noise import Noise as Noise
from ._summary import summary as summary
