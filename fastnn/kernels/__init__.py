"""numba kernels over flat float64 parameter vectors (private: use fastnn.Network).

* ``generic``: any network, widths read from a layout array; matrix loops in register
  blocks (``blocks``). Compiled once, cached by numba.
* ``specialized``: unrolled kernels generated for small networks (``codegen``), cached on
  disk (``cache``).
"""
from . import generic
from .compiler import compiled


def generic_kernel(name):
    """generic.<name>, compiled for the argument types in generic.SIGNATURES."""
    return compiled(getattr(generic, name), generic.SIGNATURES[name])
