"""Where the seed documents' names sit in fastnn's layout.

Every seed names its weights its own way (w1..w9, bias1..bias4, b0...). A document's
``NAMES`` maps each name onto a ``Slot``: an entry of ``Network.weight(l)`` (shape
(n_in, n_out), ``z = inputs @ W + b``, so ``weight(l)[i, j]`` connects input i to unit j)
or of ``Network.bias(l)``. ``mapping(NAMES)`` is the same in ``fastnn.audit``'s spelling
(``{"w3": "W0[1,0]", "bias1": "b0[0]", ...}``).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..network import Network


@dataclass(frozen=True)
class Slot:
    """One parameter of a network: ``weight(layer)[i, j]`` or ``bias(layer)[j]``."""

    kind: str  # "weight" or "bias"
    layer: int
    index: tuple

    def __str__(self):
        return f"{self.kind}({self.layer})[{', '.join(str(i) for i in self.index)}]"

    @property
    def code(self):
        """``W0[1,0]`` or ``b0[1]``: the spelling of ``fastnn.audit``'s mapping."""
        return f"{'W' if self.kind == 'weight' else 'b'}{self.layer}[{','.join(map(str, self.index))}]"

    def view(self, net):
        return net.weight(self.layer) if self.kind == "weight" else net.bias(self.layer)

    def get(self, net):
        return float(self.view(net)[self.index])

    def set(self, net, value):
        self.view(net)[self.index] = value

    def offset(self, spec):
        """Index of this parameter in the flat params (the layout ``fastnn.spec`` documents)."""
        if self.kind == "weight":
            i, j = self.index
            return spec.weight_offset(self.layer) + i * spec.sizes[self.layer + 1] + j
        return spec.bias_offset(self.layer) + self.index[0]


def W(layer, i, j):
    return Slot("weight", layer, (i, j))


def B(layer, j):
    return Slot("bias", layer, (j,))


def mapping(names):
    """``{name: "W0[i,j]" or "b0[j]"}``: a document's names for ``fastnn.audit``."""
    return {name: slot.code for name, slot in names.items()}


def network_from_names(sizes, activation, loss, names, values, bias=True):
    """A Network whose parameters are set, name by name, through weight()/bias() views.

    ``names`` maps each document name to its Slot; ``values`` maps the same names to
    numbers. Raises ValueError unless the names cover every parameter exactly once.
    """
    net = Network(sizes, activation, loss, bias=bias, init="zeros")
    offsets = sorted(slot.offset(net.spec) for slot in names.values())
    if offsets != list(range(net.n_params)):
        raise ValueError(f"the names {sorted(names)} do not cover the {net.n_params} parameters once each")
    if set(values) != set(names):
        raise ValueError(f"values for {sorted(values)}, names for {sorted(names)}")
    for name, slot in names.items():
        slot.set(net, float(values[name]))
    return net


def named(net, names, vector=None):
    """The network's parameters (or ``vector``, laid out like them) by document name."""
    if vector is None:
        return {name: slot.get(net) for name, slot in names.items()}
    return {name: float(vector[slot.offset(net.spec)]) for name, slot in names.items()}


def floats(printed):
    """A dict of printed numbers (strings) as floats."""
    return {name: float(text) for name, text in printed.items()}


def layer_net(net, layer, activation=None):
    """Layer ``layer`` of net alone (its W and b copied through the views): its
    ``predict`` gives that layer's outputs, or its net inputs with ``activation="linear"``."""
    n_in, n_out = net.sizes[layer], net.sizes[layer + 1]
    sub = Network([n_in, n_out], activation or net.activations[layer], "squared_error", bias=net.spec.bias,
                  init="zeros")
    sub.weight(0)[:] = net.weight(layer)
    if net.spec.bias:
        sub.bias(0)[:] = net.bias(layer)
    return sub
