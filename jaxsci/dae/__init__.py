"""jaxsci.dae: mass-matrix DAEs in diffrax, consistent initialisation, circuit models.

Paper: Pulch & Youssef, "Machine learning for parametric nonlinear dynamical systems"
(circuit DAEs, section 2.1 and 4); solvers: Rosenbrock methods RODAS (Hairer & Wanner 1996), RODAS4P/4P2/5P (Steinebach),
ROS3P (Lang & Verwer 2001), one stage loop over their tableaus.
"""

from ._banded import (
    AbstractJacobian as AbstractJacobian,
    BandedJacobian as BandedJacobian,
    DenseJacobian as DenseJacobian,
)
from ._box import ParameterBox as ParameterBox
from ._circuits import (
    AbstractCircuit as AbstractCircuit,
    AmplifierParams as AmplifierParams,
    SchmittParams as SchmittParams,
    SchmittTrigger as SchmittTrigger,
    TestSetAmplifier as TestSetAmplifier,
    TestSetAmplifierParams as TestSetAmplifierParams,
    TransistorAmplifier as TransistorAmplifier,
)
from ._junction import junction_current as junction_current
from ._rodas import (
    AbstractRosenbrock as AbstractRosenbrock,
    Rodas4 as Rodas4,
    Rodas4P as Rodas4P,
    Rodas4P2 as Rodas4P2,
    Rodas5P as Rodas5P,
    RodasInterpolation as RodasInterpolation,
    ROS3P as ROS3P,
)
from ._tableau import RosenbrockTableau as RosenbrockTableau
from ._simulate import simulate as simulate, sweep as sweep
from ._term import MassMatrixTerm as MassMatrixTerm
from ._transmission_line import (
    TransmissionLine as TransmissionLine,
    TransmissionLineParams as TransmissionLineParams,
)
from ._consistent import (
    consistent_initial_state as consistent_initial_state,
    require_consistent as require_consistent,
)
from ._reduction import IndexOneReduction as IndexOneReduction
