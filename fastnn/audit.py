"""``fastnn.audit``: a hand-written backpropagation step checked against the reference.

``audit(step, net, mapping, X, y, lr)`` runs the user's own per-sample SGD step (plain
Python, named scalar parameters, as the seed documents write it) and ``fastnn.reference``
on the user's samples and then on random points chosen to show what one sample hides
(every ReLU on and off, sigmoids and tanh near 0 and saturated), and returns an
``AuditReport``: which parameters are wrong, a table at the first point where something
went wrong, and a diagnosis in words where the wrong value matches a recognisable mistake.

How a parameter is judged, at each point:

* the user's gradient is what the step implies, ``(p - new p) / lr`` (``kind="step"``), or
  what it returns (``kind="gradient"``); it agrees when within ``tol = rtol * scale + ATOL``
  of the reference's (``scale``: the largest entry of the reference gradient there, more
  where the output error cancels; for a step also the rounding of ``p - lr * g``);
* where they disagree, central finite differences of the sample's reference loss decide:
  the user is wrong when the reference agrees with them; a reference that disagrees with
  finite differences (a fastnn bug: it should never happen) is reported as ``FD MISMATCH``
  and not blamed on the user; a point where finite differences cross a ReLU kink or the
  cross-entropy clip decides nothing.

A diagnosis is the simplest combination (at most ``MAX_MISTAKES``) of the mistakes the seed
documents make that reproduces the user's value at every point where the parameter was
wrong (at least ``CONFIRM`` of them) and at the points where it was right: another
parameter's gradient (swapped), another input, another unit's bias inside a derivative, a
missing activation derivative, a factor 2, 1/2, n or 1/n, the sign, a missing or doubled
learning rate, no update at all, or float32 arithmetic.

Pure Python and numpy: nothing here compiles.
"""
from __future__ import annotations

import itertools
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from . import reference
from . import validation as check
from .network import Network
from .spec import CLIP

KINDS = ("step", "gradient")
RTOL = 1e-9  # user vs reference, relative to the point's gradient scale
ATOL = 1e-12  # absolute floor of that comparison
STEP_ROUNDING = 4 * 2.0**-52  # |p| / lr times this: what (p - new p) / lr loses to rounding
MAX_CANCEL = 1e6  # the tolerance grows by at most this where the output error cancels
FD_STEP = 1e-6  # central differences
FD_RTOL = 1e-5  # finite differences vs an analytic gradient, relative to the gradient scale
FD_ATOL = 1e-8  # ... plus this, plus FD_LOSS_ROUNDING * |loss|
FD_LOSS_ROUNDING = 1e-9
SINGLE = 4 * 2.0**-24  # float32 rounding, a few units in the last place
MATCH_RTOL = 1e-8  # a diagnosis candidate vs the user's value, relative
POINTS = 200  # random points tried after the user's samples, at most
RECORD = 8  # wrong points (and right points) kept per parameter for the diagnosis
CONFIRM = 2  # a diagnosis must reproduce at least this many wrong points
MAX_MISTAKES = 3  # mistakes combined in one diagnosis, at most
MAX_CANDIDATES = 5000  # diagnoses tried per parameter, at most

_WEIGHT = re.compile(r"^\s*(?:W|weight)\s*\(?\s*(\d+)\s*\)?\s*\[\s*(\d+)\s*,\s*(\d+)\s*\]\s*$")
_BIAS = re.compile(r"^\s*(?:b|bias)\s*\(?\s*(\d+)\s*\)?\s*\[\s*(\d+)\s*\]\s*$")
_OWN, _NONE = "own", "none"
_FACTORS = ((-1.0, "sign", "the wrong sign"),
            (2.0, "factor", "an extra factor 2 (twice the gradient)"),
            (0.5, "factor", "a missing factor 2 or an extra 1/2 (half the gradient)"))


class StepError(ValueError):
    """The user's ``step`` raised; the user's exception is chained (``__cause__``) and
    ``point`` says where (``Point``)."""

    def __init__(self, message, point):
        super().__init__(message)
        self.point = point


@dataclass(frozen=True)
class Point:
    """One point tried: ``params`` by the user's names, the sample ``x`` and target ``y``."""

    index: int
    origin: str
    params: dict
    x: list
    y: list

    def __str__(self):
        return f"point {self.index} ({self.origin}): p = {self.params}, x = {self.x}, y = {self.y}"


@dataclass(frozen=True)
class Diagnosis:
    """What a wrong value is: ``kinds`` (codes such as ``"swapped"``, ``"input"``,
    ``"bias"``, ``"derivative"``, ``"factor"``, ``"sign"``) and ``text``, confirmed at
    ``points`` wrong points."""

    kinds: tuple
    text: str
    points: int

    def __str__(self):
        return self.text


@dataclass
class AuditReport:
    """The result of ``audit``: ``ok``, ``wrong`` (the user's names), ``points`` tried,
    ``diagnoses`` (name -> ``Diagnosis`` or None), ``mismatches`` (parameters where the
    reference disagreed with finite differences), ``first_point`` and ``rows`` (the table
    at the first point where something went wrong); ``str(report)`` prints it all."""

    kind: str
    network: str
    names: tuple
    fastnn_names: dict
    wrong: tuple
    mismatches: tuple
    points: int
    samples: int
    seed: int
    first_point: Point = None
    rows: tuple = ()
    diagnoses: dict = field(default_factory=dict)
    wrong_counts: dict = field(default_factory=dict)
    first_wrong: dict = field(default_factory=dict)
    hidden: tuple = ()
    undecided: int = 0
    lr: float = None

    @property
    def ok(self):
        return not self.wrong and not self.mismatches

    def __str__(self):
        what = "step" if self.kind == "step" else "gradient"
        n = len(self.names)
        tried = (f"{self.points} points tried (your {self.samples} sample{'s' * (self.samples != 1)}, "
                 f"then random points, seed={self.seed})")
        if self.ok:
            lines = [f"fastnn.audit: your {what} agrees with fastnn's reference for all {n} parameters",
                     f"network {self.network}; {tried}"]
        else:
            head = (f"fastnn.audit: your {what} is WRONG for {len(self.wrong)} of {n} parameters: "
                    f"{', '.join(self.wrong)}")
            if self.mismatches:
                head = (f"fastnn.audit: FD MISMATCH: fastnn's reference disagrees with finite differences for "
                        f"{', '.join(self.mismatches)} (a fastnn bug: please report it)"
                        + (f"; your {what} is WRONG for {', '.join(self.wrong)}" if self.wrong else ""))
            lines = [head, f"network {self.network}; {tried}", ""]
            lines += self._table()
        if self.undecided:
            many = self.undecided != 1
            lines.append(f"({self.undecided} disagreement{'s' * many} at a ReLU kink or the cross-entropy clip, "
                         f"where finite differences cannot decide, {'were' if many else 'was'} left undecided)")
        return "\n".join(lines)

    def _table(self):
        p = self.first_point
        lines = [f"first wrong at point {p.index} ({p.origin}):",
                 "  p = {" + ", ".join(f"{k!r}: {v!r}" for k, v in p.params.items()) + "}",
                 f"  x = {p.x}   y = {p.y}" + (f"   lr = {self.lr!r}" if self.kind == "step" else ""),
                 "gradients" + (" (yours: (p - new p) / lr)" if self.kind == "step" else "") + ":"]
        header = ("name", "fastnn", "yours", "reference", "finite diff.", "verdict")
        cells = [header] + [(r[0], r[1], _num(r[2]), _num(r[3]), _num(r[4]), r[5]) for r in self.rows]
        widths = [max(len(c[i]) for c in cells) for i in range(5)]
        for c in cells:
            lines.append("  " + "  ".join(c[i].ljust(widths[i]) for i in range(5)) + "  " + c[5])
        if self.wrong:
            groups = {}
            for name in self.wrong:
                d = self.diagnoses.get(name)
                groups.setdefault(d.text if d is not None else (
                    "no recognisable mistake (not a swap, another input or bias, a missing derivative, "
                    "a factor or the sign)"), []).append(name)
            lines += ["", "diagnosis:"] + [f"  {', '.join(names)}: {text}" for text, names in groups.items()]
            lines.append(f"wrong at (of {self.points} points): " + ", ".join(
                f"{n} {self.wrong_counts[n]} from point {self.first_wrong[n]}" for n in self.wrong))
            if self.hidden:
                one = self.samples == 1
                lines.append(f"your {'sample hides' if one else f'{self.samples} samples hide'} "
                             f"{', '.join(self.hidden)} (right {'there' if one else 'on all of them'})")
        return lines


def audit(step, net, mapping, X, y, lr=None, kind="step", *, seed=0, points=POINTS, rtol=RTOL):
    """Check a hand-written per-sample step (or gradient) against ``fastnn.reference``.

    ``step(p, x, y, lr) -> dict`` (``kind="step"``): the new value of every parameter, by
    the user's names; with ``kind="gradient"``, ``step(p, x, y) -> dict`` of dL/dname. ``p``
    maps names to floats, ``x`` and ``y`` are lists of floats (one sample). ``net``: the
    ``fastnn.Network`` meant (architecture, activations, loss; its parameters are the
    first point). ``mapping``: each name onto fastnn's layout, ``{"w1": "W0[0,0]",
    "bias1": "b0[0]", ...}`` (``W0[i,j]`` is ``net.weight(0)[i, j]``, ``b0[j]`` is
    ``net.bias(0)[j]``), every parameter exactly once. Tries every row of ``X``/``y`` at
    ``net``'s parameters, then up to ``points`` random points drawn from ``seed``.
    Returns an ``AuditReport``; raises ``StepError`` (the user's exception chained) when
    ``step`` raises.
    """
    if not callable(step):
        raise TypeError(f"step must be a function step(p, x, y, lr) -> dict, got {type(step).__name__}")
    if not isinstance(net, Network):
        raise TypeError(f"net must be a fastnn.Network, got {type(net).__name__}")
    kind = check.choice(kind, "kind", KINDS)
    if kind == "step":
        if lr is None:
            raise TypeError("lr is required with kind='step' (the step's learning rate)")
        lr = check.positive_float(lr, "lr")
    else:
        lr = None  # a gradient has no learning rate
    check.finite_params(net.params)
    names, flat = _parse_mapping(mapping, net.spec)
    X = check.inputs(X, net.spec)
    Y = check.targets(y, net.spec, X.shape[0])
    seed = check.integer(seed, "seed", 0, check.MAX_SEED)
    points = check.integer(points, "points", 0)
    rtol = check.positive_float(rtol, "rtol")
    return _Auditor(step, net.spec, names, flat, kind, lr, rtol, seed).run(
        net.params.tolist(), X.tolist(), Y.tolist(), points)


# ------------------------------------------------------------------ the mapping


def _fastnn_name(spec, k):
    """``W0[i,j]`` or ``b0[j]`` for flat index k, and its slot (is_weight, layer, i, j)."""
    for l in range(spec.n_layers):
        n_in, n_out = spec.sizes[l], spec.sizes[l + 1]
        w = spec.weight_offset(l)
        if w <= k < w + n_in * n_out:
            i, j = divmod(k - w, n_out)
            return f"W{l}[{i},{j}]", (True, l, i, j)
        b = spec.bias_offset(l)
        if spec.bias and b <= k < b + n_out:
            return f"b{l}[{k - b}]", (False, l, None, k - b)
    raise IndexError(k)


def _parse_mapping(mapping, spec):
    """(names, flat indices) in the mapping's order; ValueError/TypeError naming mapping."""
    if not isinstance(mapping, Mapping):
        raise TypeError(f"mapping must be a dict {{your name: 'W0[i,j]' or 'b0[j]'}}, got {type(mapping).__name__}")
    names, flat, owner = [], [], {}
    for name, text in mapping.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"mapping keys must be your parameter names (non-empty strings), got {name!r}")
        if not isinstance(text, str):
            raise TypeError(f"mapping[{name!r}] must be a string such as 'W0[0,1]' or 'b0[1]', "
                            f"got {type(text).__name__}")
        k = _flat_index(name, text, spec)
        if k in owner:
            raise ValueError(f"mapping names {_fastnn_name(spec, k)[0]} twice: {owner[k]!r} and {name!r}; "
                             "every parameter needs exactly one name")
        owner[k] = name
        names.append(name)
        flat.append(k)
    missing = [_fastnn_name(spec, k)[0] for k in range(spec.n_params) if k not in owner]
    if missing:
        raise ValueError(f"mapping misses {len(missing)} of the network's {spec.n_params} parameters: "
                         f"{', '.join(missing)}; every parameter needs exactly one name")
    return tuple(names), tuple(flat)


def _flat_index(name, text, spec):
    weight, bias = _WEIGHT.match(text), _BIAS.match(text)
    if not (weight or bias):
        raise ValueError(f"mapping[{name!r}] = {text!r} is not a parameter: use 'W<layer>[i,j]' "
                         "(net.weight(layer)[i, j]) or 'b<layer>[j]' (net.bias(layer)[j])")
    layer = int((weight or bias).group(1))
    if layer >= spec.n_layers:
        raise ValueError(f"mapping[{name!r}] = {text!r}: the network has layers 0..{spec.n_layers - 1}")
    n_in, n_out = spec.sizes[layer], spec.sizes[layer + 1]
    if weight:
        i, j = int(weight.group(2)), int(weight.group(3))
        if i >= n_in or j >= n_out:
            raise ValueError(f"mapping[{name!r}] = {text!r}: W{layer} has shape ({n_in}, {n_out})")
        return spec.weight_offset(layer) + i * n_out + j
    if not spec.bias:
        raise ValueError(f"mapping[{name!r}] = {text!r}: the network has no biases (bias=False)")
    j = int(bias.group(2))
    if j >= n_out:
        raise ValueError(f"mapping[{name!r}] = {text!r}: b{layer} has {n_out} entries")
    return spec.bias_offset(layer) + j


# ------------------------------------------------------------------ points


def _random_point(spec, rng):
    """Random parameters, sample and target. Each layer's biases (or, without biases, its
    weight columns) are set so that its net inputs land where activations differ most:
    ReLUs on or off, sigmoid/tanh near 0, in between or saturated (|z| up to 8), and
    cross-entropy outputs off the clip."""
    params = np.zeros(spec.n_params)
    inputs = rng.normal(0.0, rng.choice((0.5, 1.0, 2.0)), spec.n_inputs)
    x = inputs.tolist()
    for l in range(spec.n_layers):
        n_in, n_out = spec.sizes[l], spec.sizes[l + 1]
        w = rng.normal(0.0, rng.choice((0.5, 1.0, 1.5)) / math.sqrt(n_in), (n_in, n_out))
        z = inputs @ w
        want = _target_z(spec, l, rng, n_out)
        if spec.bias:
            params[spec.bias_offset(l):spec.bias_offset(l) + n_out] = want - z
        else:
            ratio = np.where(np.abs(z) > 1e-2, want / np.where(z == 0.0, 1.0, z), 1.0)
            w = w * np.clip(ratio, -20.0, 20.0)
        params[spec.weight_offset(l):spec.weight_offset(l) + n_in * n_out] = w.ravel()
        z = (want if spec.bias else inputs @ w).tolist()
        name = spec.activations[l]
        inputs = np.array(reference.softmax(z) if name == "softmax" else [reference.activate(name, v) for v in z])
    n = spec.n_outputs
    if spec.loss == "categorical_cross_entropy":
        target = np.eye(n)[rng.integers(n)]
    elif spec.loss == "binary_cross_entropy":
        target = rng.integers(0, 2, n).astype(float) if rng.random() < 0.5 else rng.uniform(0.0, 1.0, n)
    else:
        target = rng.normal(0.0, 1.5, n)
    return params.tolist(), x, target.tolist()


def _target_z(spec, l, rng, n):
    name = spec.activations[l]
    sign = rng.choice((-1.0, 1.0), n)
    if l == spec.n_layers - 1 and spec.loss.endswith("cross_entropy") and name not in ("sigmoid", "softmax"):
        p = rng.uniform(0.05, 0.95, n)  # an output the cross-entropy does not clip
        return {"tanh": np.arctanh(p), "gaussian": sign * np.sqrt(-np.log(p))}.get(name, p)
    if name == "relu":
        return sign * rng.uniform(0.1, 2.0, n)
    if name in ("sigmoid", "tanh", "gaussian"):
        regime = rng.integers(0, 3, n)  # near 0, in between, saturated
        return sign * rng.uniform(np.array((0.0, 0.5, 3.0))[regime], np.array((0.5, 3.0, 8.0))[regime])
    if name == "softmax":
        return rng.uniform(-4.0, 4.0, n)
    return rng.uniform(-2.0, 2.0, n)


class _Point:
    """One point: the user's and the reference's gradients, tolerances, and what the
    diagnosis needs (forward pass, backward passes with mistakes), computed lazily."""

    def __init__(self, spec, index, origin, params, x, y):
        self.spec, self.index, self.origin = spec, index, origin
        self.params, self.x, self.y = params, x, y
        self.zs, self.outs = reference.forward(spec, params, x)
        self.loss, self.ref = reference.sample_gradient(spec, params, x, y)
        self.verdict, self._fd, self._back, self._center = {}, {}, {}, None

    def tolerances(self, new, lr, rtol):
        yhat = self.outs[-1]
        residual = max(abs(a - b) for a, b in zip(yhat, self.y))
        size = max(abs(a) + abs(b) for a, b in zip(yhat, self.y))
        cancel = min(max(1.0, size / residual), MAX_CANCEL) if residual > 0.0 else 1.0
        self.scale = max(abs(g) for g in self.ref) * cancel
        self.tol = [rtol * self.scale + ATOL] * len(self.ref)
        if new is not None:
            self.tol = [t + STEP_ROUNDING * (abs(p) + abs(q)) / lr for t, p, q in zip(self.tol, self.params, new)]

    def _pattern(self, params):
        zs, outs = reference.forward(self.spec, params, self.x)
        relu = tuple(z > 0.0 for l, layer in enumerate(zs) if self.spec.activations[l] == "relu" for z in layer)
        clipped = (tuple(p < CLIP or p > 1.0 - CLIP for p in outs[-1])
                   if self.spec.loss.endswith("cross_entropy") else ())
        return reference.sample_loss(self.spec, outs[-1], self.y), relu, clipped

    def fd(self, k):
        """(central difference of the sample's loss in parameter k, reliable?)."""
        if k not in self._fd:
            p = list(self.params)
            p[k] = self.params[k] + FD_STEP
            up, relu_up, clip_up = self._pattern(p)
            p[k] = self.params[k] - FD_STEP
            down, relu_down, clip_down = self._pattern(p)
            if self._center is None:
                self._center = self._pattern(self.params)
            _, relu, clip = self._center
            reliable = relu_up == relu == relu_down and clip_up == clip == clip_down and not any(clip)
            self._fd[k] = ((up - down) / (2.0 * FD_STEP), reliable)
        return self._fd[k]

    def fd_tol(self, k, value):
        return FD_RTOL * max(self.scale, abs(value), abs(self.ref[k])) + FD_ATOL + FD_LOSS_ROUNDING * abs(self.loss)

    def backward(self, drop):
        """(e, delta) per layer: dL/d(output) and dL/dz, with the activation derivative
        taken as 1 in the layers of ``drop`` ("linear": the output as if linear, yhat = z)."""
        if drop not in self._back:
            spec, out = self.spec, self.spec.n_layers - 1
            yhat = self.zs[out] if "linear" in drop else self.outs[out]
            try:
                e_out = reference._dloss_dyhat(spec, yhat, self.y)  # the oracle's dL/dyhat
            except ValueError:  # categorical cross-entropy: only the fused delta exists
                e_out = None
            dropped = "linear" in drop or out in drop
            delta = e_out if dropped else reference.output_delta(spec, self.zs[out], yhat, self.y)
            es, deltas = [None] * (out + 1), [None] * (out + 1)
            es[out], deltas[out] = e_out, delta
            for l in range(out, 0, -1):
                n_out, w0 = spec.sizes[l + 1], spec.weight_offset(l)
                name = spec.activations[l - 1]
                e = [sum(self.params[w0 + i * n_out + j] * delta[j] for j in range(n_out))
                     for i in range(spec.sizes[l])]
                z, a = self.zs[l - 1], self.outs[l - 1]
                delta = e if l - 1 in drop else [
                    reference.times_derivative(name, v, z[i], a[i]) for i, v in enumerate(e)]
                es[l - 1], deltas[l - 1] = e, delta
            self._back[drop] = (es, deltas)
        return self._back[drop]

    def inputs(self, layer):
        return self.x if layer == 0 else self.outs[layer - 1]


# ------------------------------------------------------------------ the audit


class _Auditor:
    def __init__(self, step, spec, names, flat, kind, lr, rtol, seed):
        self.step, self.spec, self.kind, self.lr, self.rtol, self.seed = step, spec, kind, lr, rtol, seed
        self.names = names
        self.name_of = {k: n for n, k in zip(names, flat)}
        self.flat_of = dict(zip(names, flat))
        labels = [_fastnn_name(spec, k) for k in range(spec.n_params)]
        self.fastnn = [label for label, _ in labels]
        self.slots = [slot for _, slot in labels]
        n = spec.n_params
        self.wrong_pts, self.right_pts = [[] for _ in range(n)], [[] for _ in range(n)]
        self.count, self.first, self.in_samples = [0] * n, [None] * n, [False] * n
        self.mismatch, self.undecided, self.first_point = set(), 0, None

    def run(self, params, X, Y, points):
        rng = np.random.default_rng(self.seed)
        tried = 0
        for index in range(len(X) + points):
            if index < len(X):
                origin = f"your sample X[{index}] at the network's parameters"
                pt = _Point(self.spec, index, origin, params, X[index], Y[index])
            else:
                pt = _Point(self.spec, index, "random", *_random_point(self.spec, rng))
            self._judge(pt, index < len(X))
            tried += 1
            if all(len(w) >= RECORD for w in self.wrong_pts):
                break
        return self._report(tried, len(X))

    def _call(self, pt):
        p = {name: pt.params[self.flat_of[name]] for name in self.names}
        args = (dict(p), list(pt.x), list(pt.y)) + ((self.lr,) if self.kind == "step" else ())
        try:
            out = self.step(*args)
        except Exception as exc:
            call = "step(p, x, y, lr)" if self.kind == "step" else "step(p, x, y)"
            raise StepError(f"step raised {type(exc).__name__}: {exc}; audit called {call} at "
                            f"{self._point(pt)}" + (f", lr = {self.lr!r}" if self.kind == "step" else ""),
                            self._point(pt)) from exc
        what = "new value" if self.kind == "step" else "gradient"
        if not isinstance(out, Mapping):
            raise TypeError(f"step must return a dict {{name: {what}}}, got {type(out).__name__} at {self._point(pt)}")
        missing = [n for n in self.names if n not in out]
        if missing:
            raise ValueError(f"step returned no {what} for {', '.join(missing)} (mapping names them) "
                             f"at {self._point(pt)}")
        extra = [repr(n) for n in out if n not in self.flat_of]
        if extra:
            raise ValueError(f"step returned {', '.join(extra)}, which mapping does not name, at {self._point(pt)}")
        values = [0.0] * self.spec.n_params
        for name in self.names:
            v = out[name]
            if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "iuf":
                v = v.item()
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
                shape = f" of shape {v.shape}" if isinstance(v, np.ndarray) else ""
                raise TypeError(f"step must return a float for each name, got {type(v).__name__}{shape} for "
                                f"{name!r} at {self._point(pt)}")
            values[self.flat_of[name]] = float(v)
        return values

    def _point(self, pt):
        p = {name: pt.params[self.flat_of[name]] for name in self.names}
        return Point(pt.index, pt.origin, p, list(pt.x), list(pt.y))

    def _judge(self, pt, given):
        values = self._call(pt)
        if self.kind == "step":
            with np.errstate(all="ignore"):
                pt.user = [(p - q) / self.lr for p, q in zip(pt.params, values)]
            pt.tolerances(values, self.lr, self.rtol)
        else:
            pt.user = values
            pt.tolerances(None, None, self.rtol)
        for k in range(self.spec.n_params):
            if abs(pt.user[k] - pt.ref[k]) <= pt.tol[k]:
                if len(self.right_pts[k]) < RECORD:
                    self.right_pts[k].append(pt)
                continue
            value, reliable = pt.fd(k)
            if not reliable:
                pt.verdict[k] = "undecided (kink)"
                self.undecided += 1
            elif abs(pt.ref[k] - value) <= pt.fd_tol(k, value):
                pt.verdict[k] = "WRONG"
                self.count[k] += 1
                self.in_samples[k] |= given
                if self.first[k] is None:
                    self.first[k] = pt.index
                if len(self.wrong_pts[k]) < RECORD:
                    self.wrong_pts[k].append(pt)
            else:
                pt.verdict[k] = "FD MISMATCH"
                self.mismatch.add(k)
        if self.first_point is None and any(v != "undecided (kink)" for v in pt.verdict.values()):
            self.first_point = pt

    def _report(self, tried, samples):
        wrong = tuple(n for n in self.names if self.count[self.flat_of[n]])
        report = AuditReport(
            kind=self.kind, network=self.spec.describe(), names=self.names,
            fastnn_names={n: self.fastnn[self.flat_of[n]] for n in self.names}, wrong=wrong,
            mismatches=tuple(n for n in self.names if self.flat_of[n] in self.mismatch),
            points=tried, samples=samples, seed=self.seed, undecided=self.undecided, lr=self.lr)
        for name in wrong:
            k = self.flat_of[name]
            report.diagnoses[name] = self._diagnose(k)
            report.wrong_counts[name], report.first_wrong[name] = self.count[k], self.first[k]
        report.hidden = tuple(n for n in wrong if samples and not self.in_samples[self.flat_of[n]])
        pt = self.first_point
        if pt is not None:
            report.first_point = self._point(pt)
            rows = []
            for name in self.names:
                k = self.flat_of[name]
                verdict = pt.verdict.get(k, "ok")
                if verdict == "ok" and self.count[k]:
                    verdict = f"ok here; WRONG at point {self.first[k]}"
                rows.append((name, self.fastnn[k], pt.user[k], pt.ref[k], pt.fd(k)[0], verdict))
            report.rows = tuple(rows)
        return report

    # -------------------------------------------------------------- diagnosis

    def _diagnose(self, k):
        wrong, right = self.wrong_pts[k], self.right_pts[k]
        if len(wrong) < CONFIRM:
            return None
        for kinds, text, value in self._candidates(k):
            if all(self._matches(pt, k, value(pt)) for pt in wrong) and all(
                    self._matches(pt, k, value(pt)) for pt in right):
                return Diagnosis(kinds, text() if callable(text) else text, len(wrong))
        return None

    @staticmethod
    def _matches(pt, k, value):
        u = pt.user[k]
        return value is not None and abs(u - value) <= pt.tol[k] + MATCH_RTOL * max(abs(u), abs(value))

    def _label(self, k):
        return f"{self.name_of[k]} ({self.fastnn[k]})"

    def _candidates(self, k):
        """(kinds, text, value(point)) in order of preference: fewest mistakes first."""
        others = [m for m in range(self.spec.n_params) if m != k]
        swaps = [(("swapped",), f"swapped with {self.name_of[m]}: it gets the gradient of {self._label(m)}, "
                  f"and {self.name_of[m]} gets its", self._swap(k, m)) for m in others]
        unchanged = (("unchanged",), "never updated (its gradient is taken as 0)" if self.kind == "step"
                     else "always 0", lambda pt: 0.0)
        gradients = [(("other_gradient",), f"gets the gradient of {self._label(m)}", lambda pt, m=m: pt.ref[m])
                     for m in others]
        single = (("float32",), "right to float32 precision only (computed in float32?)", self._float32(k))
        variants = itertools.chain.from_iterable(self._variants(k, c) for c in range(2, MAX_MISTAKES + 1))
        return itertools.chain([single], swaps, [unchanged], self._variants(k, 1), gradients,
                               itertools.islice(variants, MAX_CANDIDATES))

    def _float32(self, k):
        def value(pt):
            u, ref = pt.user[k], pt.ref[k]
            rounding = SINGLE * (abs(ref) + pt.scale)
            if self.kind == "step":
                rounding += SINGLE * 2.0 * abs(pt.params[k]) / self.lr
            return u if abs(u - ref) <= rounding else None
        return value

    def _swap(self, k, m):
        def value(pt):
            other = pt.user[m]
            ok = abs(other - pt.ref[k]) <= pt.tol[m] + MATCH_RTOL * max(abs(other), abs(pt.ref[k]))
            return pt.ref[m] if ok else None
        return value

    def _variants(self, k, cost):
        """(kinds, text, value) for each combination of exactly ``cost`` mistakes among: a
        missing activation derivative (in each layer from the parameter's up), another
        unit's bias inside its unit's derivative, another input (or none), a factor."""
        spec, out = self.spec, self.spec.n_layers - 1
        acts = spec.activations
        is_weight, l, i, j = self.slots[k]
        cce = spec.loss == "categorical_cross_entropy"
        layer_options = []
        for m in range(l, out + 1):
            options = [frozenset()]
            if acts[m] != "linear" and not (m == out and cce):
                options.append(frozenset((m,)))
                if m == out and acts[m] != "softmax":
                    options.append(frozenset(("linear",)))
            layer_options.append(options)
        drops = [frozenset().union(*combo) for combo in itertools.product(*layer_options)]
        elementwise = acts[l] not in ("linear", "softmax") and not (l == out and cce)
        biases = [m for m in range(spec.sizes[l + 1]) if m != j] if spec.bias and elementwise else []
        n_in = spec.sizes[l]
        inputs = [m for m in range(n_in) if m != i] + [_NONE] if is_weight else list(range(n_in))
        factors = list(_FACTORS)
        if spec.n_outputs > 1:
            n = spec.n_outputs
            factors += [(float(n), "factor", f"a missing factor 1/n (n = {n} outputs)"),
                        (1.0 / n, "factor", f"an extra factor 1/n (n = {n} outputs)")]
        if self.kind == "step":
            factors += [(1.0 / self.lr, "lr", "the update does not multiply by lr"),
                        (self.lr, "lr", "the update multiplies by lr twice")]
        for drop in drops:
            own_dropped = l in drop or (l == out and "linear" in drop)
            rest = cost - len(drop)
            for flags in itertools.product((0, 1), repeat=3):
                if sum(flags) != rest or (flags[0] and own_dropped):
                    continue
                for bias, inp, factor in itertools.product(biases if flags[0] else [None],
                                                           inputs if flags[1] else [_OWN],
                                                           factors if flags[2] else [(1.0, None, None)]):
                    yield self._variant(k, drop, bias, inp, factor)

    def _variant(self, k, drop, bias, inp, factor):
        is_weight, l, i, j = self.slots[k]
        kinds = (("input",) if inp != _OWN else ()) + (("bias",) if bias is not None else ()) + (
            ("derivative",) * len(drop)) + ((factor[1],) if factor[1] is not None else ())
        return (kinds, lambda: self._variant_text(k, drop, bias, inp, factor),
                self._value(k, l, j, is_weight, drop, bias, inp, factor[0]))

    def _variant_text(self, k, drop, bias, inp, factor):
        spec, out = self.spec, self.spec.n_layers - 1
        is_weight, l, i, j = self.slots[k]
        acts = spec.activations
        parts = []
        if inp != _OWN:
            parts.append(self._input_text(l, i, inp, is_weight))
        if bias is not None:
            b0 = spec.bias_offset(l)
            parts.append(f"{acts[l]}'(z) of its unit uses {self._label(b0 + bias)}, another unit's bias, "
                         f"instead of {self._label(b0 + j)}")
        for m in sorted((d for d in drop if d != "linear"), reverse=True):
            parts.append(f"missing activation derivative: {_prime(acts[m])} of {_layer(m, out)}")
        if "linear" in drop:
            parts.append("missing activation derivative of the output layer: it differentiates as if the "
                         f"output were linear (yhat = z, no {_prime(acts[out])})")
        if factor[1] is not None:
            parts.append(factor[2])
        return "; ".join(parts)

    def _value(self, k, l, j, is_weight, drop, bias, inp, factor):
        spec, i = self.spec, self.slots[k][2]

        def value(pt):
            es, deltas = pt.backward(drop)
            if bias is None:
                d = deltas[l][j]
            else:
                if es[l] is None:
                    return None
                b0, name = spec.bias_offset(l), spec.activations[l]
                z = pt.zs[l][j] - pt.params[b0 + j] + pt.params[b0 + bias]
                d = reference.times_derivative(name, es[l][j], z, reference.activate(name, z))
            if d is None:
                return None
            xs = pt.inputs(l)
            if is_weight:
                scale = xs[i] if inp == _OWN else 1.0 if inp == _NONE else xs[inp]
            else:
                scale = 1.0 if inp == _OWN else xs[inp]
            return d * scale * factor
        return value

    def _input_text(self, l, i, inp, is_weight):
        def name(m):
            return f"x[{m}]" if l == 0 else f"h{l - 1}[{m}] (output {m} of hidden layer {l - 1})"
        if not is_weight:
            return f"multiplied by input {name(inp)} (a bias has no input factor)"
        if inp == _NONE:
            return f"missing its input factor {name(i)}"
        return f"multiplies by input {name(inp)} instead of its own input {name(i)}"


def _prime(activation):
    return "the softmax Jacobian" if activation == "softmax" else f"{activation}'(z)"


def _layer(m, out):
    return "the output layer" if m == out else f"hidden layer {m}"


def _num(value):
    return f"{value + 0.0:.12g}"  # + 0.0: -0.0 prints as 0
