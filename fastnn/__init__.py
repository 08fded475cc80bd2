"""fastnn: fast, reference-checked training of small dense networks."""
from . import datasets, optim, reference, testing
from .audit import AuditReport, StepError, audit
from .errors import DivergenceError, TrainingWarning
from .gradcheck import gradcheck, numerical_gradient
from .halving import Halving
from .history import History
from .io import load
from .network import Network
from .optim import SGD, AdaGrad, Adam, RMSprop
from .spec import ACTIVATIONS, INITS, LOSSES
from .sweep import SweepResult, sweep

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "AuditReport",
    "audit",
    "SGD",
    "AdaGrad",
    "Adam",
    "RMSprop",
    "optim",
    "INITS",
    "LOSSES",
    "DivergenceError",
    "Network",
    "datasets",
    "gradcheck",
    "Halving",
    "History",
    "load",
    "numerical_gradient",
    "reference",
    "sweep",
    "SweepResult",
    "StepError",
    "testing",
    "TrainingWarning",
]
