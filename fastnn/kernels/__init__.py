"""numba kernels over flat float64 parameter vectors (private: use fastnn.Network)."""
