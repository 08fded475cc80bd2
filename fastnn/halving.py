"""Successive halving inside a sweep: ``Halving(eta, first_rung)``.

At the rungs (after r, r*eta, r*eta^2, ... epochs, below the sweep's ``epochs``) the sweep
keeps the best ceil(n / eta) of its n surviving configurations, ranked by the watched loss
of the rung's last epoch (the validation loss when the sweep has validation data, else the
training loss), and stops the others. Ties go to the lower configuration index; a
configuration that diverged or stopped early (``patience``) before a rung no longer
counts among the survivors there. ``fastnn.reference.halving_survivors`` is the oracle of
``survivors``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Halving:
    """Successive halving: keep 1/eta of the survivors at each rung (eta >= 2 int), the
    first rung after ``first_rung`` epochs (>= 1; checked against the sweep's epochs)."""

    eta: int = 3
    first_rung: int = 1

    def __post_init__(self):
        for name, low in (("eta", 2), ("first_rung", 1)):
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < low:
                raise ValueError(f"{name} must be >= {low}, got {value!r}")
            object.__setattr__(self, name, int(value))

    def rungs(self, epochs):
        """The rung epochs (counts of epochs trained) below ``epochs``: r, r*eta, ... ."""
        if self.first_rung > epochs:
            raise ValueError(f"halving: first_rung={self.first_rung} must lie in 1..epochs ({epochs})")
        out, r = [], self.first_rung
        while r < epochs:
            out.append(r)
            r *= self.eta
        return out


def survivors(scores, alive, eta):
    """The configurations that go on past a rung: sorted int64 indices, the best
    ceil(len(alive) / eta) of ``alive`` (int64 indices) by ``scores[alive]`` (lower is
    better; NaN counts as the worst; ties: the lower index)."""
    alive = np.asarray(alive, dtype=np.int64)
    if len(alive) == 0:
        return alive
    values = np.asarray(scores, dtype=np.float64)[alive]
    key = np.where(np.isnan(values), np.inf, values)
    # lexsort: last key primary; alive is sorted, so equal scores keep index order
    order = np.lexsort((alive, np.isnan(values), key))
    return np.sort(alive[order[: -(-len(alive) // eta)]])


__all__ = ["Halving", "survivors"]
