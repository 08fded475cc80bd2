"""fastnn with pandas and matplotlib, in notebooks, and without its optional packages.

* pandas: ``fit``, ``predict``, ``loss``, ``gradient`` and ``sweep`` take DataFrames and
  Series (columns in order) and give the same bits as numpy arrays; non-numeric columns
  raise a TypeError naming them; ``SweepResult.to_frame()`` holds every configuration's
  settings and outcome.
* Figures: ``plot`` and ``plot_lr`` draw into a given Axes and return the Figure;
  ``plot_lr`` draws one line and band per value of ``by``, at the median and min..max.
* Display: ``repr`` and ``_repr_html_`` of Network and SweepResult.
* Optional packages: a process where pandas, scikit-learn, tqdm and matplotlib cannot be
  imported still imports fastnn, fits and sweeps.

The progress bar (tqdm or fastnn's own) is tested in test_sweep.py; the scikit-learn
estimators in test_sklearn.py; ``fastnn sweep --data iris`` in test_cli_sweep.py.
Networks here are [2, 2, 1] and [2, 4, 3] (shared with test_sweep.py: no new kernels).
"""
import html
import importlib
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastnn
from fastnn import datasets

sweep_module = importlib.import_module("fastnn.sweep")

QX, QY = datasets.quadratic(20, seed=0)
SX, SY = datasets.spiral(10, 3, seed=0)


def _pandas():
    return pytest.importorskip("pandas")


def bits(a):
    return np.asarray(a, dtype=np.float64).view(np.uint64)


# ------------------------------------------------------------------ pandas input


def test_dataframes_and_series_give_the_same_bits_as_arrays():
    pd = _pandas()
    X = pd.DataFrame(QX, columns=["x1", "x2"])
    y = pd.Series(QY[:, 0], name="y")
    a = fastnn.Network([2, 2, 1], init="he", seed=1)
    b = a.copy()
    history_a = a.fit(X, y, lr=0.005, epochs=5, batch_size=4, shuffle=True)
    history_b = b.fit(QX, QY, lr=0.005, epochs=5, batch_size=4, shuffle=True)
    assert np.array_equal(bits(history_a), bits(history_b)) and np.array_equal(bits(a.params), bits(b.params))
    assert np.array_equal(bits(a.predict(X)), bits(b.predict(QX)))
    assert a.loss(X, y.to_frame()) == b.loss(QX, QY)
    assert np.array_equal(bits(a.gradient(X, y)), bits(b.gradient(QX, QY)))
    # columns in the frame's order: reordered columns are other inputs
    swapped = X[["x2", "x1"]]
    assert np.array_equal(a.predict(swapped), b.predict(QX[:, ::-1]))


def test_class_label_series_and_integer_and_bool_columns():
    pd = _pandas()
    X = pd.DataFrame({"a": SX[:, 0], "b": (SX[:, 1] * 100).round().astype(np.int64)})
    labels = pd.Series(SY, name="class")
    net = fastnn.Network([2, 4, 3], ["tanh", "softmax"], "categorical_cross_entropy", seed=0)
    twin = net.copy()
    net.fit(X, labels, lr=0.05, epochs=3, shuffle=True)
    twin.fit(X.to_numpy(dtype=float), SY, lr=0.05, epochs=3, shuffle=True)
    assert np.array_equal(bits(net.params), bits(twin.params))
    flags = pd.DataFrame({"p": [True, False], "q": pd.array([1, 2], dtype="Int64")})
    assert np.array_equal(fastnn.Network([2, 2, 1], seed=0).predict(flags),
                          fastnn.Network([2, 2, 1], seed=0).predict([[1.0, 1.0], [0.0, 2.0]]))


def test_sweep_takes_dataframes():
    pd = _pandas()
    kwargs = dict(lr=[1e-3, 2e-3], seeds=[0, 1], epochs=3, progress=False)
    frame = fastnn.sweep([2, 2, 1], pd.DataFrame(QX), pd.Series(QY[:, 0]), **kwargs)
    plain = fastnn.sweep([2, 2, 1], QX, QY, **kwargs)
    assert np.array_equal(bits(frame.losses), bits(plain.losses))


@pytest.mark.parametrize("case, argument, named", [
    ("text column", "X", "'name' (str)"),
    ("category column", "X", "'kind' (category)"),
    ("text labels", "y", "Series 'species'"),
])
def test_non_numeric_columns_are_named(case, argument, named):
    pd = _pandas()
    net = fastnn.Network([2, 2, 1], seed=0)
    X = pd.DataFrame({"x": [1.0, 2.0], "name": ["a", "b"]}) if case == "text column" else \
        pd.DataFrame({"x": [1.0, 2.0], "kind": pd.Categorical(["u", "v"])})
    y = pd.Series(["setosa", "virginica"], name="species") if case == "text labels" else [1.0, 2.0]
    if argument == "y":
        X = X[["x"]].assign(z=[0.0, 1.0])
    with pytest.raises(TypeError) as info:
        net.fit(X, y, lr=0.1, epochs=1)
    message = str(info.value)
    assert message.startswith(f"{argument} must hold real numbers") and named in message
    if argument == "y":
        assert "numpy.unique(y, return_inverse=True)" in message


def test_missing_values_in_a_frame_are_refused_as_non_finite():
    pd = _pandas()
    X = pd.DataFrame({"a": [1.0, 2.0], "b": pd.array([1, None], dtype="Int64")})
    with pytest.raises(ValueError, match="X must be finite, found 1 NaN"):
        fastnn.Network([2, 2, 1], seed=0).predict(X)


# ------------------------------------------------------------------ SweepResult.to_frame


@pytest.fixture(scope="module")
def diverging_sweep():
    """lr 1e10 diverges (tanh hidden layer, linear output); lr 1e-3 trains."""
    return fastnn.sweep([2, 2, 1], QX, QY, lr=[1e-3, 1e10], seeds=[0, 1], hidden=[2, 3], epochs=4,
                        activation=["tanh", "linear"], loss="half_squared_error", init="he", progress=False)


def test_to_frame_rows_are_the_configurations(diverging_sweep):
    pd = _pandas()
    r = diverging_sweep
    frame = r.to_frame()
    assert list(frame.columns) == ["lr", "seed", "hidden", "hidden_0", "batch_size", "optimizer", "l1", "l2",
                                   "dropout", "final_loss", "best_loss", "best_epoch", "diverged_epoch", "stuck"]
    assert frame.index.name == "index" and list(frame.index) == list(range(len(r.configs)))
    for name in ["lr", "seed", "hidden", "hidden_0", "batch_size", "optimizer", "l1", "l2", "dropout"]:
        assert frame[name].tolist() == r.configs[name].tolist(), name
    assert np.array_equal(bits(frame["final_loss"]), bits(r.losses[:, -1]))
    assert frame["diverged_epoch"].tolist() == r.diverged_epoch.tolist()
    assert frame["stuck"].tolist() == r.stuck.tolist()
    for k in range(len(r.configs)):
        curve = r.losses[k]
        finite = np.isfinite(curve)
        if finite.any():
            e = int(np.argmin(np.where(finite, curve, np.inf)))
            assert frame["best_epoch"][k] == e and frame["best_loss"][k] == curve[e]
        else:
            assert frame["best_epoch"][k] == -1 and np.isnan(frame["best_loss"][k])
    diverged = frame[frame["diverged_epoch"] >= 0]
    assert len(diverged) > 0 and diverged["final_loss"].isna().all()
    assert frame.sort_values("final_loss").index[0] == r.best(1)[0]["index"]


def test_to_frame_of_an_old_file_has_unknown_stuck(diverging_sweep):
    pd = _pandas()
    r = diverging_sweep
    old = sweep_module.SweepResult(r.configs[["lr", "seed", "hidden", "batch_size", "group"]], r.losses,
                                   r.diverged_epoch, (), r.groups)
    frame = old.to_frame()
    assert frame["stuck"].isna().all() and "optimizer" not in frame.columns


def test_to_frame_without_pandas(diverging_sweep, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"needs pandas: pip install 'fastnn\[pandas\]'"):
        diverging_sweep.to_frame()


# ------------------------------------------------------------------ figures


@pytest.fixture(scope="module")
def grid():
    return fastnn.sweep([2, 2, 1], QX, QY, lr=list(np.geomspace(1e-4, 1e-2, 4)), seeds=[0, 1, 2], hidden=[2, 3],
                        epochs=5, activation=["tanh", "linear"], init="he", progress=False)


def test_plot_draws_into_a_given_axes(grid, tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert grid.plot(ax=right, highlight=2) is fig
    assert len(left.lines) == 0 and len(right.lines) == len(grid.configs) + 2
    own = grid.plot(tmp_path / "curves.png")
    assert own is not fig and (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_lr_lines_are_medians_over_seeds_with_min_max_bands(grid):
    pytest.importorskip("matplotlib")
    fig = grid.plot_lr(by="hidden")
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and len(ax.lines) == 2 and len(ax.collections) == 2
    rates = np.unique(grid.configs["lr"])
    for line, hidden in zip(ax.lines, ["2", "3"]):
        assert line.get_label() == f"hidden={hidden}"
        assert np.array_equal(line.get_xdata(), rates)
        final = grid.losses[:, -1]
        expected = [np.median(final[(grid.configs["hidden"] == hidden) & (grid.configs["lr"] == lr)]) for lr in rates]
        assert np.allclose(line.get_ydata(), expected, rtol=0, atol=0)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    twos = grid.losses[grid.configs["hidden"] == "2", -1]
    assert np.isclose(band.min(), twos.min()) and np.isclose(band.max(), twos.max())
    assert "median over seed" in ax.get_title()


def test_plot_lr_at_an_epoch_by_two_fields_into_an_axes(grid, tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    assert grid.plot_lr(tmp_path / "lr.png", ax=ax, by=("hidden", "seed"), epoch=2) is fig
    assert len(ax.lines) == 6 and ax.get_ylabel() == "loss after 2 epochs"
    first = ax.lines[0]
    at_epoch_2 = grid.losses[(grid.configs["hidden"] == "2") & (grid.configs["seed"] == 0), 1]
    assert np.array_equal(first.get_ydata(), at_epoch_2)  # one seed: the median is the value
    assert (tmp_path / "lr.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_lr_counts_diverged_configurations(diverging_sweep):
    pytest.importorskip("matplotlib")
    fig = diverging_sweep.plot_lr(by="hidden")
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert any("diverged)" in label for label in labels)


@pytest.mark.parametrize("by, error", [("loss", ValueError), ("group", ValueError), ("lr", ValueError),
                                       ((), ValueError), ((1,), TypeError)])
def test_plot_lr_bad_by(grid, by, error):
    pytest.importorskip("matplotlib")
    with pytest.raises(error, match="by"):
        grid.plot_lr(by=by)


# ------------------------------------------------------------------ display


def test_network_repr_and_html():
    net = fastnn.Network([2, 4, 3], ["tanh", "softmax"], "categorical_cross_entropy", init="he", seed=7)
    assert repr(net) == ("Network(sizes=[2, 4, 3], activation=['tanh', 'softmax'], loss='categorical_cross_entropy', "
                         "bias=True, init='he', seed=7, n_params=27)")
    page = net._repr_html_()
    assert page.count("<tr>") == 3  # a header and one row per layer
    for text in ["2-4-3", "categorical_cross_entropy", "27 parameters", "2 → 4", "4 → 3", "softmax", "<td>12</td>",
                 "<td>15</td>"]:
        assert text in page, text


def test_sweep_repr_and_html(grid):
    top = grid.best(1)[0]
    assert repr(grid).startswith(f"SweepResult({len(grid.configs)} configurations in 2 group(s), 5 epochs, ")
    assert repr(grid).endswith(f"best final loss {top['loss']:.4g} (index {top['index']}))")
    page = grid._repr_html_()
    assert page.count("<tr>") == 6  # header + the best 5
    assert f"{len(grid.configs)} configurations in 2 groups" in page
    assert "fixed: batch_size=1, optimizer=SGD(), l1=0, l2=0, dropout=0" in page
    head = page[page.index("<thead>"):page.index("</thead>")]
    assert [h.split("</th>")[0] for h in head.split("<th>")[1:]] == ["rank", "index", "lr", "seed", "hidden",
                                                                     "final loss"]
    for rank, row in enumerate(grid.best(5), 1):
        assert f"<tr><td>{rank}</td><td>{row['index']}</td>" in page
    html.unescape(page)  # well-formed enough to unescape


def test_sweep_html_with_optimizers_and_diverged(diverging_sweep):
    r = fastnn.sweep([2, 2, 1], QX, QY, lr=[1e-3], seeds=[0], optimizer=["sgd", fastnn.Adam(beta1=0.8)], epochs=2,
                     init="he", activation=["tanh", "linear"], progress=False)
    page = r._repr_html_()
    assert "<th>optimizer</th>" in page and "Adam(beta1=0.8)" in page
    assert f"{int(diverging_sweep.diverged.sum())} diverged" in diverging_sweep._repr_html_()


def test_a_network_unpickled_read_only_still_trains():
    """joblib (scikit-learn's parallel searches) memory-maps unpickled arrays read-only;
    the network takes writable copies, so it predicts and keeps training."""
    net = fastnn.Network([2, 2, 1], activation=["tanh", "linear"], init="he", seed=1)
    net.fit(QX, QY, lr=1e-3, epochs=2, optimizer="adam")
    state = pickle.loads(pickle.dumps(net)).__dict__
    for value in (state["_params"], state["_layout"], state["_dims"], state["_run"].first, state["_run"].second):
        value.flags.writeable = False
    other = fastnn.Network.__new__(fastnn.Network)
    other.__setstate__(state)
    assert np.array_equal(other.predict(QX), net.predict(QX))
    other.fit(QX, QY, lr=1e-3, epochs=2, optimizer="adam", warm_start=True)
    net.fit(QX, QY, lr=1e-3, epochs=2, optimizer="adam", warm_start=True)
    assert np.array_equal(bits(other.params), bits(net.params))


# ------------------------------------------------------------------ without the optional packages


def test_fastnn_works_without_its_optional_packages():
    """A process in which pandas, scikit-learn, tqdm and matplotlib cannot be imported
    (None in sys.modules) imports fastnn, fits, sweeps (with progress requested) and
    gives clear ImportErrors for what needs them."""
    script = textwrap.dedent("""
        import sys
        for name in ("pandas", "sklearn", "tqdm", "matplotlib"):
            sys.modules[name] = None
        import numpy as np
        import fastnn
        X, y = fastnn.datasets.quadratic(20, seed=0)
        net = fastnn.Network([2, 2, 1], init="he", seed=1)
        history = net.fit(X, y, lr=0.005, epochs=3)
        assert history.shape == (3,) and np.isfinite(history).all()
        result = fastnn.sweep([2, 2, 1], X, y, lr=[1e-3, 2e-3], seeds=[0, 1], epochs=3, progress=True)
        assert result.losses.shape == (4, 3)
        repr(result); result._repr_html_(); net._repr_html_()
        try:
            result.to_frame()
        except ImportError as exc:
            assert "pip install 'fastnn[pandas]'" in str(exc)
        else:
            raise AssertionError("to_frame without pandas")
        try:
            import fastnn.sklearn
        except ImportError as exc:
            assert "pip install 'fastnn[sklearn]'" in str(exc)
        else:
            raise AssertionError("fastnn.sklearn without scikit-learn")
        for name in ("pandas", "sklearn", "tqdm", "matplotlib"):
            assert sys.modules[name] is None, name
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
