"""The seed documents' networks, as fastnn Networks with the documents' own weights.

Name mapping (document -> fastnn), checked by tests/test_seeds.py:

* seed 000 (2-2-1 ReLU, squared error): node 1 = x1 w1 + x2 w3 + bias1, node 2 =
  x1 w2 + x2 w4 + bias2, node 3 = n1 w5 + n2 w6 + bias3, so
  ``weight(0) = [[w1, w2], [w3, w4]]``, ``bias(0) = [bias1, bias2]``,
  ``weight(1) = [[w5], [w6]]``, ``bias(1) = [bias3]``.
"""
from __future__ import annotations

import numpy as np

from .network import Network

# Seed 000: initial weights and biases, learning rate and epochs as printed.
SEED000_INITIAL = dict(w1=1.0, w2=0.5, w3=1.0, w4=-0.5, w5=1.0, w6=1.0, bias1=0.5, bias2=0.0, bias3=0.5)
SEED000_TRAINED = dict(
    w1=4.267625719636286,
    w2=0.3873420120939794,
    w3=0.6051373231390909,
    w4=-0.5844934909295154,
    w5=1.2964133122970964,
    w6=0.9859177515117474,
    bias1=-10.54437338995653,
    bias2=-0.028164496976505155,
    bias3=7.31565146412916,
)
SEED000_LR = 0.005
SEED000_EPOCHS = 1000


def seed000_params(w):
    """Flat params of the 2-2-1 network from seed 000's named weights (a dict)."""
    return np.array(
        [w["w1"], w["w2"], w["w3"], w["w4"], w["bias1"], w["bias2"], w["w5"], w["w6"], w["bias3"]],
        dtype=np.float64,
    )


def seed000_network(weights=SEED000_INITIAL):
    """Seed 000's 2-2-1 ReLU network with squared error, holding the given named weights."""
    return Network([2, 2, 1], "relu", "squared_error", init=seed000_params(weights))
