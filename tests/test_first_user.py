"""What a new user hit first (issue 18): stuck configurations, plot() without a path,
epochs named in messages, string class labels, widths that compare as numbers, and
class-sorted data trained in order.

Shapes are those of tests/test_sweep.py (2-2-1 ReLU squared error, 2-4-3 tanh/softmax),
so numba's disk cache serves their kernels.
"""
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import advice, datasets

QX, QY = datasets.quadratic(20, seed=0)
SX, SY = datasets.spiral(10, 3, seed=0)  # 30 samples, labels in runs 0..0 1..1 2..2


def dead_output_network():
    """2-2-1 ReLU whose output unit is dead for every sample of QX (inputs >= 0): positive
    hidden weights, negative output weights and bias."""
    params = np.array([0.5, 0.2, 0.3, 0.4, 0.0, 0.0, -0.7, -0.1, -1.0])
    return fastnn.Network([2, 2, 1], "relu", "squared_error", init=params, seed=0)


@pytest.fixture(scope="module")
def seed_sweep():
    """The main job's grid in small: He init seeds 0..15, some with a dead output ReLU."""
    return fastnn.sweep([2, 2, 1], QX, QY, lr=[1e-4, 1e-3, 5e-3], seeds=range(16), epochs=5, init="he",
                        progress=False)


def test_sweep_flags_stuck_configurations(seed_sweep):
    """stuck[k] is exactly "did not diverge and its final parameters are its initial
    ones"; every stuck configuration has a zero reference gradient on every sample at its
    start (why it never moved), every other one moved; repr counts them."""
    r = seed_sweep
    assert r.stuck.dtype == np.bool_ and r.stuck.shape == (len(r.configs),)
    assert 0 < r.n_stuck < len(r.configs), "the grid must hold stuck and moving configurations"
    for k, row in enumerate(r.configs):
        start = fastnn.Network([2, 2, 1], "relu", "squared_error", init="he", seed=int(row["seed"]))
        unchanged = np.array_equal(r.params_of(k), start.params)
        assert r.stuck[k] == (unchanged and not r.diverged[k]), k
        if r.stuck[k]:
            for x, y in zip(QX, QY):
                assert not any(start.gradient([x], [y], backend="reference")), (k, x)
    # stuck is a property of the init seed here: the same seeds at every lr
    by_lr = r.stuck.reshape(3, 16)
    assert (by_lr == by_lr[0]).all()
    assert f"{r.n_stuck} stuck" in repr(r)
    best = r.best(len(r.configs))
    assert np.array_equal(best["stuck"], r.stuck[best["index"]])


def test_stuck_survives_save_and_load(seed_sweep, tmp_path):
    seed_sweep.save(tmp_path / "r.npz")
    loaded = fastnn.load(tmp_path / "r.npz")
    assert np.array_equal(loaded.stuck, seed_sweep.stuck) and repr(loaded) == repr(seed_sweep)


def test_sweep_from_a_dead_network_is_all_stuck():
    r = fastnn.sweep(dead_output_network(), QX, QY, lr=[1e-3, 1e-2], seeds=[0], epochs=3, progress=False)
    assert r.stuck.all() and not r.diverged.any()
    assert (r.losses == r.losses[:, :1]).all()  # flat curves


def test_fit_warns_when_no_parameter_changed():
    net = dead_output_network()
    with pytest.warns(fastnn.TrainingWarning, match="no parameter changed in 3 epoch.*dead ReLU.*output"):
        net.fit(QX, QY, lr=1e-3, epochs=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastnn.Network([2, 2, 1], "relu", "squared_error", init="he", seed=1).fit(QX, QY, lr=1e-3, epochs=3)


def test_plot_without_a_path_returns_the_figure(seed_sweep, tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    fig = seed_sweep.plot()
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(f"{seed_sweep.n_stuck} stuck" in text for text in labels)
    saved = seed_sweep.plot(tmp_path / "p.png")
    assert isinstance(saved, Figure) and (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("epoch, said", [(0, "the 1st epoch (epoch=0)"), (2, "the 3rd epoch (epoch=2)"),
                                         (21, "the 22nd epoch (epoch=21)"), (110, "the 111th epoch (epoch=110)")])
def test_divergence_message_names_the_epoch_both_ways(epoch, said):
    err = fastnn.DivergenceError(epoch, np.zeros(epoch))
    assert said in str(err) and err.epoch == epoch
    assert f"epoch {epoch + 1}" not in str(err).replace(said, "")  # no bare count to misread


def test_diverging_fit_says_epoch_zero_for_the_first_epoch():
    net = fastnn.Network([2, 2, 1], ["tanh", "linear"], "half_squared_error", init="he", seed=0)
    with pytest.raises(fastnn.DivergenceError, match=r"the 1st epoch \(epoch=0\)") as info:
        net.fit(QX, QY, lr=1e10, epochs=3)
    assert info.value.epoch == 0


def test_string_class_labels_get_an_encoding_hint():
    net = fastnn.Network([2, 3], "softmax", "categorical_cross_entropy", seed=0)
    names = np.array(["cat", "dog", "cat", "bird"])
    with pytest.raises(TypeError, match=r"y must hold real numbers.*'cat'.*numpy.unique\(y, return_inverse=True\)"):
        net.fit(QX[:4], names, lr=0.1, epochs=1)
    with pytest.raises(TypeError, match=r"y must hold.*numpy.unique"):
        net.loss(QX[:4], ["cat", "dog", "cat", "bird"])
    # the hint works: encoded labels train
    classes, labels = np.unique(names, return_inverse=True)
    assert list(classes) == ["bird", "cat", "dog"] and list(labels) == [1, 2, 1, 0]
    with pytest.raises(TypeError, match=r"X must hold.*'a'.*one-hot"):
        net.predict([["a", "b"]])
    with pytest.raises(TypeError, match=r"X must hold.*numpy.asarray\(X, dtype=float\)"):
        net.predict(np.array([[1 + 2j, 0j]]))


def test_class_sorted_detection():
    assert advice.is_class_sorted(np.eye(3)[SY])
    assert advice.is_class_sorted(np.repeat([[0.0], [1.0]], 6, axis=0))
    assert not advice.is_class_sorted(np.eye(3)[np.random.default_rng(0).permutation(SY)])
    assert not advice.is_class_sorted(np.eye(3)[np.zeros(30, dtype=int)])  # one class: no order
    assert not advice.is_class_sorted(QY)  # regression targets
    assert not advice.is_class_sorted(np.eye(3)[SY[::3]][:9])  # too few samples to matter


def test_fit_and_sweep_warn_on_class_sorted_data_in_order():
    net = fastnn.Network([2, 4, 3], ["tanh", "softmax"], "categorical_cross_entropy", init="xavier", seed=0)
    with pytest.warns(fastnn.TrainingWarning, match="sorted by class.*shuffle=True") as record:
        net.copy().fit(SX, SY, lr=0.05, epochs=1)
    assert record[0].filename == __file__  # points at the caller's line
    with pytest.warns(fastnn.TrainingWarning, match="sorted by class"):
        fastnn.sweep(net, SX, SY, lr=[0.05], seeds=[0], epochs=1, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.copy().fit(SX, SY, lr=0.05, epochs=1, shuffle=True)
        net.copy().fit(SX, SY, lr=0.05, epochs=1, batch_size=None)  # the full batch has no order
        order = np.random.default_rng(0).permutation(len(SX))
        net.copy().fit(SX[order], SY[order], lr=0.05, epochs=1)
        fastnn.sweep(net, SX, SY, lr=[0.05], seeds=[0], epochs=1, shuffle=True, progress=False)
