"""Helpers for the user's own test suite (pytest or plain asserts)."""
from __future__ import annotations

from .audit import audit


def assert_backprop_matches(step, net, mapping, X, y, lr=None, kind="step", **options):
    """Assert that a hand-written step (or gradient) agrees with ``fastnn.reference``.

    Runs ``fastnn.audit(step, net, mapping, X, y, lr, kind, **options)`` and raises
    ``AssertionError`` with the audit's table and diagnosis when a parameter is wrong;
    returns the ``AuditReport`` otherwise::

        def test_my_backprop():
            fastnn.testing.assert_backprop_matches(my_step, net, MAPPING, X, y, lr=0.005)
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this one
    report = audit(step, net, mapping, X, y, lr, kind, **options)
    if not report.ok:
        raise AssertionError("\n" + str(report))
    return report
