"""fastnn's benchmark suite: the registry of comparisons (``bench.cases``) and its tests.

``pytest bench/`` runs every benchmark once, quickly, as a smoke test that also checks each
implementation against ``fastnn.reference``; ``scripts/bench`` times them for real and
writes ``bench/RESULTS.md``.
"""
