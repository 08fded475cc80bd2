"""The network's shape and the flat parameter layout.

A network with layer widths ``sizes = [n0, n1, ..., nL]`` has ``L`` dense layers. Layer
``l`` (0-based) maps ``n_l`` inputs to ``n_{l+1}`` outputs as in nnfs::

    z = inputs @ W_l + b_l          W_l: (n_l, n_{l+1}),  b_l: (n_{l+1},)
    a = activation_l(z)

All weights and biases live in one C-contiguous float64 vector ``params``, layer after
layer, each layer's weights first (row-major, so ``W_l[i, j]`` is at
``w_offset[l] + i * n_{l+1} + j``) and then its biases (absent when ``bias=False``)::

    params = [W_0 (row-major) | b_0 | W_1 | b_1 | ... | W_{L-1} | b_{L-1}]

Both the reference and the kernels read this module's layout; nothing else is shared.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "gaussian", "softmax")
LOSSES = (
    "squared_error",
    "half_squared_error",
    "mse",
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "mean_absolute_error",
)
INITS = ("zeros", "normal", "xavier", "he")

# Integer codes handed to the kernels: the index in the tuples above.
LINEAR, RELU, SIGMOID, TANH, GAUSSIAN, SOFTMAX = range(len(ACTIVATIONS))
(SQUARED_ERROR, HALF_SQUARED_ERROR, MSE, BINARY_CROSS_ENTROPY, CATEGORICAL_CROSS_ENTROPY,
 MEAN_ABSOLUTE_ERROR) = range(len(LOSSES)
)

# Probabilities are clipped to [CLIP, 1 - CLIP] inside the cross-entropy logs, as nnfs does.
CLIP = 1e-7

# Dropout draws its masks from a SplitMix64 stream that starts at seed ^ DROPOUT_SALT,
# apart from the shuffling stream (which starts at seed).
DROPOUT_SALT = 0xD1B54A32D192ED03

# Layout array handed to the kernels (int64): a header, then one row per layer.
HEADER = 4  # n_layers, loss code, n_params, total units (sum of sizes)
ROW = 6  # n_in, n_out, w_offset, b_offset (-1 without bias), activation code, unit offset
N_IN, N_OUT, W_OFF, B_OFF, ACT, UNIT_OFF = range(ROW)


def _name_list(value, valid, argument, count):
    """Expand one name or a list of names into a tuple of ``count`` valid names."""
    if isinstance(value, str):
        names = (value,) * count
    elif isinstance(value, (list, tuple)):
        names = tuple(value)
        if len(names) != count:
            raise ValueError(
                f"{argument} must be one name or a list of {count} names (one per layer), "
                f"got a list of {len(names)}"
            )
    else:
        raise TypeError(f"{argument} must be a string or a list of strings, got {type(value).__name__}")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{argument} names must be strings, got {type(name).__name__}")
        if name not in valid:
            raise ValueError(f"unknown {argument} {name!r}; valid names: {', '.join(valid)}")
    return names


def _sizes(sizes):
    if not isinstance(sizes, (list, tuple, range, np.ndarray)):
        raise TypeError(f"sizes must be a list of layer widths like [2, 2, 1], got {sizes!r}")
    out = []
    for width in sizes:
        if isinstance(width, (bool, np.bool_)) or not isinstance(width, (int, np.integer)):
            raise TypeError(f"sizes must hold integers, got {width!r}")
        if width < 1:
            raise ValueError(f"sizes must hold widths >= 1, got {list(sizes)}")
        out.append(int(width))
    if len(out) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, got {list(sizes)}")
    return tuple(out)


@dataclass(frozen=True)
class Spec:
    """What a network is: widths, one activation per layer, the loss, bias on/off."""

    sizes: tuple
    activations: tuple
    loss: str
    bias: bool = True

    @classmethod
    def build(cls, sizes, activation, loss, bias=True):
        """Validate user arguments and return a Spec (raises ValueError/TypeError)."""
        sizes = _sizes(sizes)
        n_layers = len(sizes) - 1
        activations = _name_list(activation, ACTIVATIONS, "activation", n_layers)
        if not isinstance(loss, str):
            raise TypeError(f"loss must be a string, got {type(loss).__name__}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; valid names: {', '.join(LOSSES)}")
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        for l, name in enumerate(activations[:-1]):
            if name == "softmax":
                raise ValueError(
                    f"activation: softmax is only allowed on the output layer, got it on hidden layer {l}"
                )
        if loss == "categorical_cross_entropy" and activations[-1] != "softmax":
            raise ValueError(
                "loss categorical_cross_entropy needs a softmax output layer, "
                f"got output activation {activations[-1]!r}"
            )
        return cls(sizes, activations, loss, bool(bias))

    @property
    def n_layers(self):
        return len(self.sizes) - 1

    @property
    def n_inputs(self):
        return self.sizes[0]

    @property
    def n_outputs(self):
        return self.sizes[-1]

    def weight_offset(self, layer):
        return self._offsets[layer][0]

    def bias_offset(self, layer):
        """Offset of layer's biases in params, or -1 when the network has no biases."""
        return self._offsets[layer][1]

    def __post_init__(self):
        # Derived once: the reference reads these in its innermost loops.
        offsets, at = self._compute_offsets()
        object.__setattr__(self, "_offsets", offsets)
        object.__setattr__(self, "n_params", at)

    def _compute_offsets(self):
        offsets, at = [], 0
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            w = at
            at += n_in * n_out
            b = at if self.bias else -1
            if self.bias:
                at += n_out
            offsets.append((w, b))
        return offsets, at

    @property
    def loss_code(self):
        return LOSSES.index(self.loss)

    @property
    def activation_codes(self):
        return tuple(ACTIVATIONS.index(a) for a in self.activations)

    def layout(self):
        """int64 array describing the network for the kernels (see HEADER and ROW)."""
        out = np.empty(HEADER + ROW * self.n_layers, dtype=np.int64)
        out[:HEADER] = (self.n_layers, self.loss_code, self.n_params, sum(self.sizes))
        unit = self.sizes[0]
        for l, ((w, b), code) in enumerate(zip(self._offsets, self.activation_codes)):
            row = HEADER + ROW * l
            out[row : row + ROW] = (self.sizes[l], self.sizes[l + 1], w, b, code, unit)
            unit += self.sizes[l + 1]
        return out

    def init_params(self, init="xavier", seed=None):
        """Initial flat parameters (float64, length n_params); biases start at zero.

        ``init``: ``"zeros"``; ``"normal"`` (nnfs: 0.01 * standard normal); ``"xavier"``
        (Glorot uniform, limit sqrt(6 / (n_in + n_out))); ``"he"`` (normal, std
        sqrt(2 / n_in)). Weights are drawn layer by layer from
        ``numpy.random.default_rng(seed)``, so a seed gives the same vector everywhere.
        """
        if not isinstance(init, str):
            raise TypeError(f"init must be a name or an array, got {type(init).__name__}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; valid names: {', '.join(INITS)} or a flat array")
        params = np.zeros(self.n_params, dtype=np.float64)
        if init == "zeros":
            return params
        rng = np.random.default_rng(seed)
        for l in range(self.n_layers):
            n_in, n_out = self.sizes[l], self.sizes[l + 1]
            if init == "normal":
                w = 0.01 * rng.standard_normal((n_in, n_out))
            elif init == "xavier":
                limit = math.sqrt(6.0 / (n_in + n_out))
                w = rng.uniform(-limit, limit, (n_in, n_out))
            else:
                w = math.sqrt(2.0 / n_in) * rng.standard_normal((n_in, n_out))
            start = self.weight_offset(l)
            params[start : start + n_in * n_out] = w.ravel()
        return params

    def describe(self):
        layers = ", ".join(
            f"{i}->{o} {a}" for i, o, a in zip(self.sizes[:-1], self.sizes[1:], self.activations)
        )
        return f"[{layers}] loss={self.loss} bias={self.bias} params={self.n_params}"
