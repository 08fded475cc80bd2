"""The seed documents, one module each: their networks, weights, data, name mappings and
hand-derived backpropagation (in their own words), and the tables ``fastnn seeds`` prints.

* ``seed000``: "Exercise project X", 2-2-1 ReLU, hand-derived updates (``step``);
* ``seed001``: "Neural network, math experimentation", 2-3-1 ReLU, four steps (``step``);
* ``seed002``: "Module 11 activity", 2-2-2 sigmoid, no biases (``gradient``);
* ``seed003``: Victor Zhou's network dissected (``step``, ``dL_dw1``);
* ``seed004``: nnfs, a single ReLU neuron (``step``).

Each has ``NAMES`` (document name -> ``layout.Slot``), ``network(...)`` and ``build()``,
the walkthrough's ``table.Seed``: its numbers, and its step as ``fastnn.audit`` runs it.
"""
from importlib import import_module

from .seed000 import EPOCHS as SEED000_EPOCHS
from .seed000 import LR as SEED000_LR
from .seed000 import network as seed000_network
from .seed000 import params as seed000_params

SEED_IDS = ("000", "001", "002", "003", "004")

__all__ = ["SEED_IDS", "SEED000_EPOCHS", "SEED000_LR", "document", "seed000_network", "seed000_params"]


def document(sid):
    """The module of seed ``sid`` ("000" .. "004")."""
    return import_module(f"{__name__}.seed{sid}")
