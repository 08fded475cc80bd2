"""SweepResult with held-out data, early stopping and halving (issue 13): best() by
validation loss, to_csv / to_frame columns, plot / plot_lr, repr and the notebook view.

The results are a real small sweep ([2, 2, 1] ReLU: the kernel tests/test_sweep.py
compiles) with the held-out arrays set by hand (dataclasses.replace), so that every
ranking is known in advance; the last test checks a real ``fastnn.sweep`` with
validation data against the same rules.
"""
import csv
import dataclasses
import math

import numpy as np
import pytest

import fastnn
from fastnn import datasets

QX, QY = datasets.quadratic(20, seed=0)
VX, VY = datasets.quadratic(30, seed=0)[0][20:], datasets.quadratic(30, seed=0)[1][20:]
nan = np.nan

# 6 configurations x 6 epochs. 0: stopped by patience after epoch 4 (0-based), best 2;
# 1 and 4: pruned at the rung of 2 epochs; 2, 3: survivors; 5: diverged in epoch 0.
VAL = np.array([
    [5.0, 4.0, 3.0, 3.5, 3.6, nan],
    [6.0, 5.5, nan, nan, nan, nan],
    [4.0, 3.0, 2.0, 1.5, 1.2, 1.0],
    [4.0, 3.0, 2.5, 2.0, 1.8, 1.9],
    [3.9, 3.0, nan, nan, nan, nan],
    [nan, nan, nan, nan, nan, nan],
])
BEST = np.array([2, 1, 5, 4, 1, -1])
STOPPED = np.array([4, -1, -1, -1, -1, -1])
PRUNED = np.array([-1, 2, -1, -1, 2, -1])
LAST = np.array([4, 1, 5, 5, 1, 5])  # the last epoch each ran
ACC = np.clip(1.0 - VAL / 10.0, 0.0, 1.0)
BY_VAL = [2, 3, 0, 4, 1, 5]  # val loss at the best epoch: 1.0, 1.8, 3.0, 3.0 (tie: index order), 5.5, none


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


@pytest.fixture(scope="module")
def plain():
    return fastnn.sweep([2, 2, 1], QX, QY, lr=[1e-3, 2e-3, 5e-3], seeds=[0, 1], epochs=6, init="he", progress=False)


def with_monitor(plain, validation=True, accuracy=True):
    losses = plain.losses.copy()
    for k in range(6):
        losses[k, LAST[k] + 1:] = nan
    losses[5] = nan
    diverged = plain.diverged_epoch.copy()
    diverged[5] = 0
    extra = dict(best_epoch=BEST.copy(), stopped_epoch=STOPPED.copy(), pruned_epoch=PRUNED.copy(), patience=2,
                 halving=fastnn.Halving(eta=3, first_rung=2), min_delta=0.01)
    if validation:
        extra.update(val_losses=VAL.copy(), val_accuracy=ACC.copy() if accuracy else None)
    return dataclasses.replace(plain, losses=losses, diverged_epoch=diverged, **extra)


@pytest.fixture(scope="module")
def monitored(plain):
    return with_monitor(plain)


def rank(values):
    """Indices by value, non-finite last, ties by index."""
    return sorted(range(len(values)), key=lambda k: (not math.isfinite(values[k]),
                                                     values[k] if math.isfinite(values[k]) else 0, k))


# ------------------------------------------------------------------ best


def test_best_ranks_by_validation_loss_at_the_best_epoch(monitored):
    r = monitored
    best = r.best(10)
    assert list(best["index"]) == BY_VAL
    assert best.dtype.names == ("index", "lr", "seed", "hidden", "hidden_0", "batch_size", "optimizer", "l1", "l2",
                                "dropout", "loss", "stuck", "val_loss", "val_accuracy", "best_epoch",
                                "stopped_epoch", "pruned_epoch")
    for row in best:
        k, e = row["index"], BEST[row["index"]]
        if e >= 0:
            assert row["val_loss"] == VAL[k, e] and row["val_accuracy"] == ACC[k, e] and row["loss"] == r.losses[k, e]
        else:
            assert np.isnan(row["val_loss"]) and np.isnan(row["val_accuracy"]) and np.isnan(row["loss"])
        assert (row["best_epoch"], row["stopped_epoch"], row["pruned_epoch"]) == (BEST[k], STOPPED[k], PRUNED[k])
    assert r.best(10, by="val_loss").tobytes() == best.tobytes()
    assert list(r.best(2)["index"]) == BY_VAL[:2]


def test_best_at_an_epoch_and_by_training_loss(monitored):
    r = monitored
    at_2 = r.best(10, epoch=2)
    assert list(at_2["index"]) == rank(VAL[:, 1]) == [2, 3, 4, 0, 1, 5]
    assert np.array_equal(bits(at_2["val_loss"]), bits(VAL[at_2["index"], 1]))
    assert np.array_equal(bits(at_2["loss"]), bits(r.losses[at_2["index"], 1]))
    final = r.losses[np.arange(6), LAST]  # by="loss": the last epoch each ran (pruned ones: their rung)
    by_loss = r.best(10, by="loss")
    assert list(by_loss["index"]) == rank(final)
    assert np.array_equal(bits(by_loss["loss"]), bits(final[by_loss["index"]]))
    assert np.array_equal(bits(by_loss["val_loss"]), bits(VAL[by_loss["index"], LAST[by_loss["index"]]]))
    assert np.array_equal(bits(r.final_losses()), bits(final))
    assert list(r.best(10, epoch=3, by="loss")["index"]) == rank(r.losses[:, 2])


def test_best_without_validation_data_watches_the_training_loss(plain):
    r = with_monitor(plain, validation=False)
    assert r.val_losses is None
    best = r.best(10)
    watched = [r.losses[k, BEST[k]] if BEST[k] >= 0 else nan for k in range(6)]
    assert list(best["index"]) == rank(watched)
    assert "val_loss" not in best.dtype.names and "best_epoch" in best.dtype.names
    with pytest.raises(ValueError, match="by='val_loss' needs validation data"):
        r.best(by="val_loss")
    with pytest.raises(ValueError, match="by='val_loss' needs validation data"):
        plain.best(by="val_loss")
    assert np.array_equal(plain.best(6, by="loss"), plain.best(6))


@pytest.mark.parametrize("by", ["accuracy", "val", "", 3, None.__class__])
def test_best_unknown_by(monitored, by):
    with pytest.raises(ValueError, match="by must be 'loss'"):
        monitored.best(by=by)


def test_best_without_accuracy(plain):
    r = with_monitor(plain, accuracy=False)
    names = r.best(3).dtype.names
    assert "val_loss" in names and "val_accuracy" not in names


# ------------------------------------------------------------------ CSV and pandas


def test_to_csv_has_the_validation_columns_and_curves(monitored, plain, tmp_path):
    r = monitored
    r.to_csv(tmp_path / "m.csv")
    with open(tmp_path / "m.csv", newline="") as handle:
        head, *rows = list(csv.reader(handle))
    plain.to_csv(tmp_path / "p.csv")
    with open(tmp_path / "p.csv", newline="") as handle:
        plain_head = next(csv.reader(handle))
    added = ["best_epoch", "val_loss", "val_accuracy", "stopped_epoch", "pruned_epoch"]
    cut = plain_head.index("final_loss") + 1
    assert head == plain_head[:cut] + added + plain_head[cut:] + [f"val_loss_{e}" for e in range(1, 7)]
    for k, row in enumerate(rows):
        values = dict(zip(head, row))
        assert int(values["best_epoch"]) == BEST[k]
        assert int(values["stopped_epoch"]) == STOPPED[k] and int(values["pruned_epoch"]) == PRUNED[k]
        e = BEST[k]
        expected = (VAL[k, e], ACC[k, e]) if e >= 0 else (nan, nan)
        assert np.array_equal([float(values["val_loss"]), float(values["val_accuracy"])], expected, equal_nan=True)
        assert np.array_equal(bits([float(values[f"val_loss_{i}"]) for i in range(1, 7)]), bits(VAL[k]))
        assert np.array_equal(bits([float(values[f"loss_{i}"]) for i in range(1, 7)]), bits(r.losses[k]))
        assert np.array_equal(bits(float(values["final_loss"])), bits(r.losses[k, LAST[k]]))
    r.to_csv(tmp_path / "short.csv", curves=False)
    with open(tmp_path / "short.csv", newline="") as handle:
        assert next(csv.reader(handle))[-5:] == added


def test_to_frame_uses_the_stored_best_epoch(monitored):
    pytest.importorskip("pandas")
    r = monitored
    frame = r.to_frame()
    assert list(frame.columns) == ["lr", "seed", "hidden", "hidden_0", "batch_size", "optimizer", "l1", "l2",
                                   "dropout", "final_loss", "best_loss", "best_epoch", "val_loss", "val_accuracy",
                                   "diverged_epoch", "stuck", "stopped_epoch", "pruned_epoch"]
    assert frame["best_epoch"].tolist() == BEST.tolist()
    assert frame["stopped_epoch"].tolist() == STOPPED.tolist() and frame["pruned_epoch"].tolist() == PRUNED.tolist()
    for k in range(6):
        e = BEST[k]
        if e >= 0:
            assert frame["best_loss"][k] == r.losses[k, e] and frame["val_loss"][k] == VAL[k, e]
            assert frame["val_accuracy"][k] == ACC[k, e]
        else:
            assert np.isnan(frame["best_loss"][k]) and np.isnan(frame["val_loss"][k])
    assert frame.sort_values("val_loss", kind="stable").index.tolist() == BY_VAL


# ------------------------------------------------------------------ figures


def test_plot_shows_the_validation_curves_of_the_best(monitored, tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    assert monitored.plot(tmp_path / "m.png", ax=ax, highlight=3) is fig
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    dashed = [line for line in ax.lines if line.get_linestyle() == "--" and line.get_color() != "tab:red"
              and len(line.get_xdata())]
    assert len(dashed) == 3
    labelled = [line for line in ax.lines if line.get_label().startswith("#")]
    for line, solid, k in zip(dashed, labelled, BY_VAL[:3]):
        assert line.get_color() == solid.get_color()
        assert np.array_equal(line.get_ydata(), VAL[k], equal_nan=True)  # pruned/stopped curves end in NaN
        assert np.array_equal(solid.get_ydata(), monitored.losses[k], equal_nan=True)
        assert f"val loss={VAL[k, BEST[k]]:.4g}" in solid.get_label()
    assert "stopped after 5 epochs" in labelled[2].get_label()
    assert "dashed: validation loss" in ax.get_title()
    assert any("dashed: validation loss" in text.get_text() for text in ax.get_legend().get_texts())
    pruned = with_monitor_pruned_best(monitored)
    (first,) = [line for line in pruned.plot(highlight=1).axes[0].lines if line.get_label().startswith("#1")]
    assert first.get_label().startswith(f"#1: lr={pruned.configs['lr'][1]:.4g} seed=1 ")
    assert first.get_label().endswith("pruned after 2 epochs")


def with_monitor_pruned_best(r):
    val = r.val_losses.copy()
    val[1, 1] = 0.5  # a pruned configuration ranked first
    return dataclasses.replace(r, val_losses=val)


def test_plot_lr_defaults_to_the_best_validation_loss(monitored, plain):
    pytest.importorskip("matplotlib")
    fig = monitored.plot_lr(by="seed")
    (ax,) = fig.axes
    assert ax.get_ylabel() == "best validation loss (at each configuration's best epoch)"
    rates = np.unique(monitored.configs["lr"])
    at_best = np.array([VAL[k, BEST[k]] if BEST[k] >= 0 else nan for k in range(6)])
    for line, seed in zip(ax.lines, [0, 1]):
        expected = [at_best[(monitored.configs["seed"] == seed) & (monitored.configs["lr"] == lr)][0] for lr in rates]
        assert np.array_equal(line.get_ydata(), expected, equal_nan=True)
    assert any("(1 diverged)" in line.get_label() for line in ax.lines)
    ax = monitored.plot_lr(by="seed", epoch=2).axes[0]
    assert ax.get_ylabel() == "validation loss after 2 epochs"
    assert np.array_equal(ax.lines[0].get_ydata(), VAL[monitored.configs["seed"] == 0, 1], equal_nan=True)
    ax = monitored.plot_lr(by="seed", metric="loss").axes[0]
    assert ax.get_ylabel() == "final loss"
    with pytest.raises(ValueError, match="metric must be 'loss'"):
        monitored.plot_lr(metric="accuracy")
    with pytest.raises(ValueError, match="metric='val_loss' needs validation data"):
        plain.plot_lr(metric="val_loss")


# ------------------------------------------------------------------ display


def test_repr_and_html_mention_validation_and_stopping(monitored, plain):
    text = repr(monitored)
    assert "1 stopped early (patience 2, min_delta 0.01)" in text
    assert "2 pruned (halving eta=3, first_rung=2)" in text
    assert text.endswith("best val loss 1 (index 2, epoch 5))")
    assert "val" not in repr(plain) and "pruned" not in repr(plain)
    page = monitored._repr_html_()
    head = page[page.index("<thead>"):page.index("</thead>")]
    columns = [h.split("</th>")[0] for h in head.split("<th>")[1:]]
    assert monitored.n_stuck  # the he init leaves seed 0's output ReLU dead
    assert columns[-6:] == ["train loss", "val loss", "val accuracy", "best epoch", "stuck", "stopped"]
    assert "by validation loss (at each configuration's best epoch)" in page
    assert "2 pruned (halving eta=3, first_rung=2)" in page
    assert "<td>1</td><td>2</td>" in page and "stopped after 5 epochs" in page
    no_validation = with_monitor(plain, validation=False)
    assert "best loss" in repr(no_validation) and "best final loss" not in repr(no_validation)
    page = no_validation._repr_html_()
    assert "val loss" not in page and "<th>best epoch</th>" in page


# ------------------------------------------------------------------ a real sweep


def test_a_real_sweep_with_validation_data(tmp_path):
    import inspect

    if "validation_data" not in inspect.signature(fastnn.sweep).parameters:
        pytest.skip("fastnn.sweep has no validation_data yet")
    r = fastnn.sweep([2, 2, 1], QX, QY, lr=[1e-3, 2e-3, 5e-3], seeds=[0, 1], epochs=6, init="he", progress=False,
                     validation_data=(VX, VY))
    assert r.val_losses.shape == r.losses.shape and r.val_accuracy is None
    at_best = np.array([r.val_losses[k, e] if e >= 0 else nan for k, e in enumerate(r.best_epoch)])
    best = r.best(6)
    assert list(best["index"]) == rank(at_best)
    assert np.array_equal(bits(best["val_loss"]), bits(at_best[best["index"]]))
    loaded_path = tmp_path / "r.npz"
    r.save(loaded_path)
    assert fastnn.load(loaded_path).best(6).tobytes() == best.tobytes()


# ------------------------------------------------------------------ the main job


def test_demo_ranks_by_validation_loss(tmp_path, capsys):
    """fastnn demo (scripts/run) on a small grid: held-out draws as validation data, the
    table by validation loss, both curves in the CSV, the reference equal to the bit."""
    pytest.importorskip("matplotlib")
    from fastnn import demo

    assert demo.run(n_lr=3, n_seeds=2, epochs=4, out_dir=str(tmp_path), check=1, n_val=10) == 0
    out = capsys.readouterr().out
    assert "validation: the generator's next 10 draws (rows 100..109 of datasets.quadratic(110, seed=0))" in out
    assert "best 10 by validation loss, each at its best epoch" in out
    assert "largest |difference| (both curves and parameters) 0" in out
    with open(tmp_path / "sweep.csv", newline="") as handle:
        head = next(csv.reader(handle))
    assert "val_loss" in head and head[-1] == "val_loss_4"
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"
