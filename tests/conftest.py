"""Shared pytest set-up: a deterministic hypothesis profile for CI."""
import os

from hypothesis import HealthCheck, settings

# derandomize: the same examples on every run, so CI is reproducible; no deadline because
# the first call of a kernel includes its compilation.
settings.register_profile(
    "fastnn",
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fastnn"))
# Tests compare the generated kernels themselves: fit compiles them first instead of starting
# on the generic kernel (kernels.tiering); tests/test_tiering.py turns tiering on itself.
os.environ.setdefault("FASTNN_TIERING", "0")
