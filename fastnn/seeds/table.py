"""The walkthrough's data model: a seed's numbers (``Quantity``), in tables (``Group``),
with its hand-derived step for ``fastnn.audit`` (``Seed``).

A ``Quantity`` holds a number as the document prints it, how many decimals it prints, and
how fastnn computes it (a function of the backend, run once with ``backend="numba"`` and
once with ``backend="reference"``). Its verdict compares the reference value with the
printed one:

* ``match``: equal when rounded to the printed decimals; numbers printed at full
  precision (Python ``repr``) must agree to a relative ``FULL_RTOL`` = 1e-12, which allows
  for the last bits of a different summation order (numpy's ``dot`` in seed 004);
* ``seed error``: the document is wrong; the row carries a one-line reason and
  ``docs/seeds.md`` explains it;
* ``not printed``: the document prints no number (loss curves, experiments, training);
* ``not comparable``: the document's number comes from its own unseeded random data.

The document's derivation itself is judged by ``fastnn.audit`` (``Seed.report``): its
hand-derived step on its own sample, then on random points that show what one sample hides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Optional

from ..audit import audit
from .layout import mapping

FULL_RTOL = 1e-12  # printed at full precision: relative agreement required for "match"
AGREE_RTOL = 1e-12  # kernel vs reference: relative agreement required for exit status 0


def _norm(text):
    return text[1:] if text.startswith("-") and float(text) == 0.0 else text


def printed_match(value, printed, decimals):
    """Whether ``value`` is the number the document printed as ``printed``.

    ``decimals``: how many decimals the document rounded to; None for a full-precision
    print, which must agree to a relative ``FULL_RTOL`` (exactly, when it is 0).
    """
    doc = float(printed)
    if decimals is None:
        return abs(value - doc) <= FULL_RTOL * abs(doc)
    return _norm(f"{value:.{decimals}f}") == _norm(f"{doc:.{decimals}f}")


def agree(a, b, rtol=AGREE_RTOL):
    """Equal, or within a relative ``rtol`` (kernel vs reference)."""
    return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))


@dataclass(eq=False)
class Quantity:
    """One number of a seed document and fastnn's two computations of it."""

    name: str
    doc: Optional[str]  # as printed; None: not printed
    decimals: Optional[int]  # decimals printed; None: full precision
    compute: Callable[[str], float]  # backend -> value
    reason: str = ""  # why the document is wrong (shown with a seed error) or a note
    comparable: bool = True  # False: the document's number comes from other (random) data
    key: str = ""  # "seed/group/name", set by Seed

    @cached_property
    def kernel(self):
        return float(self.compute("numba"))

    @cached_property
    def reference(self):
        return float(self.compute("reference"))

    @property
    def agrees(self):
        """Kernel value equals reference value (to AGREE_RTOL)."""
        return agree(self.kernel, self.reference)

    @property
    def verdict(self):
        if self.doc is None:
            return "not printed"
        if not self.comparable:
            return "not comparable"
        return "match" if printed_match(self.reference, self.doc, self.decimals) else "seed error"

    @property
    def note(self):
        if self.verdict == "seed error":
            return self.reason or "UNEXPLAINED: the reference disagrees with the document"
        return "" if self.verdict == "match" else self.reason


@dataclass(eq=False)
class Group:
    key: str
    title: str
    how: str  # the fastnn calls that compute the rows
    quantities: list


@dataclass(eq=False)
class Seed:
    """One document: its tables, and ``audited = (step, network, X, y, lr)``, the document's
    hand-derived step (``lr`` None: a gradient function) as ``fastnn.audit`` runs it."""

    sid: str
    title: str
    network: str  # sizes, activations, loss, learning rate
    names: dict  # document name -> Slot
    units: list  # (document name, where fastnn has it)
    groups: list
    notes: list = field(default_factory=list)
    audited: Optional[tuple] = None

    def __post_init__(self):
        for group in self.groups:
            for q in group.quantities:
                q.key = f"{self.sid}/{group.key}/{q.name}"

    @property
    def quantities(self):
        return [q for g in self.groups for q in g.quantities]

    def counts(self):
        """{verdict: number of rows}."""
        out = {}
        for q in self.quantities:
            out[q.verdict] = out.get(q.verdict, 0) + 1
        return out

    @cached_property
    def report(self):
        """``fastnn.audit``'s report on the document's step (None: nothing to audit)."""
        if self.audited is None:
            return None
        step, net, X, y, lr = self.audited
        return audit(step, net, mapping(self.names), X, y, lr, "gradient" if lr is None else "step")
