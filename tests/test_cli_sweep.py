"""The ``fastnn sweep`` command: the same numbers as fastnn.sweep, a table of the best,
--csv and --plot files, every data set source, and clear errors for bad options.

Run in-process through ``fastnn.cli.main`` (output captured with capsys), plus one real
``python -m fastnn sweep`` process. The command's numbers are checked against
``fastnn.sweep`` called directly with the same settings (whose equality with
``Network.fit`` tests/test_sweep.py checks): the printed table token for token, the CSV's
loss curves bit for bit.
"""
import csv
import importlib
import os
import subprocess
import sys

import numpy as np
import pytest

import fastnn
from fastnn import cli, datasets

sweep_module = importlib.import_module("fastnn.sweep")

COMMON = ["--lr", "0.01,0.1", "--seeds", "0:2", "--batch-size", "1,2", "--epochs", "3"]
COMMON_API = dict(lr=[0.01, 0.1], seeds=[0, 1], batch_size=[1, 2], epochs=3, init="he")  # he: the command's default


def table(out):
    """The rows of the printed ranking, as lists of 7 tokens (8 with a closing "stuck")."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["rank", "config"])
    rows = []
    for line in lines[start + 1:]:
        tokens = line.split()
        if not (len(tokens) == 7 or (len(tokens) == 8 and tokens[-1] == "stuck")) or not tokens[0].isdigit():
            break
        rows.append(tokens)
    return rows


def expected_table(result, top):
    return [[str(rank), str(row["index"]), f"{row['lr']:.4g}", str(row["seed"]), str(row["hidden"]),
             str(row["batch_size"]), f"{row['loss']:.6g}"] + (["stuck"] if row["stuck"] else [])
            for rank, row in enumerate(result.best(top), 1)]


def csv_losses(path):
    with open(path, newline="") as handle:
        head, *rows = list(csv.reader(handle))
    first = head.index("loss_1")
    return np.array([[float(v) for v in row[first:]] for row in rows])


def assert_bits_equal(a, b, what):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64)), what


def _no_kernel(spec, batch_size, shuffle):
    raise AssertionError("the sweep loaded a kernel before rejecting its arguments")


# ------------------------------------------------------------------ what it prints and writes


def test_prints_the_best_and_writes_csv_and_plot(tmp_path, capsys):
    csv_path, png_path = tmp_path / "grid.csv", tmp_path / "grid.png"
    code = cli.main(["sweep", "--sizes", "2,2,1", "--data", "quadratic", "--samples", "20", "--data-seed", "0",
                     "--lr", "1e-3:1e-2:3", "--seeds", "0:2", "--hidden", "2,40,2x2", "--batch-size", "1,6",
                     "--epochs", "4", "--shuffle", "--top", "4", "--csv", str(csv_path), "--plot", str(png_path)])
    assert code == 0
    out = capsys.readouterr().out
    X, y = datasets.quadratic(20, seed=0)
    result = fastnn.sweep([2, 2, 1], X, y, lr=list(np.geomspace(1e-3, 1e-2, 3)), seeds=[0, 1],
                          hidden=[2, 40, (2, 2)], batch_size=[1, 6], epochs=4, shuffle=True, init="he", progress=False)
    assert "36 configurations x 4 epochs on 20 samples" in out
    assert table(out) == expected_table(result, 4)
    assert f"wrote {csv_path}" in out and f"wrote {png_path}" in out
    assert_bits_equal(csv_losses(csv_path), result.losses, "CSV loss curves")
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# sizes/activation/loss fitting each built-in data set, and the data set fastnn.datasets gives
DATASETS = {
    "quadratic": (["--sizes", "2,2,1", "--samples", "20", "--data-seed", "3"], [2, 2, 1], "relu", "squared_error",
                  lambda: datasets.quadratic(20, seed=3)),
    "gender": (["--sizes", "2,3,1", "--activation", "gaussian,sigmoid", "--loss", "binary_cross_entropy"],
               [2, 3, 1], ["gaussian", "sigmoid"], "binary_cross_entropy", datasets.gender),
    "xor": (["--sizes", "2,3,1", "--activation", "gaussian,sigmoid", "--loss", "binary_cross_entropy"],
            [2, 3, 1], ["gaussian", "sigmoid"], "binary_cross_entropy", datasets.xor),
    "spiral": (["--sizes", "2,4,3", "--activation", "tanh,softmax", "--loss", "categorical_cross_entropy",
                "--samples", "10", "--classes", "3"], [2, 4, 3], ["tanh", "softmax"], "categorical_cross_entropy",
               lambda: datasets.spiral(10, 3, seed=0)),
    "vertical": (["--sizes", "2,4,3", "--activation", "tanh,softmax", "--loss", "categorical_cross_entropy",
                  "--samples", "10", "--classes", "3"], [2, 4, 3], ["tanh", "softmax"], "categorical_cross_entropy",
                 lambda: datasets.vertical(10, 3, seed=0)),
}


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_data_set(name, tmp_path, capsys):
    options, sizes, activation, loss, make = DATASETS[name]
    csv_path = tmp_path / "out.csv"
    assert cli.main(["sweep", "--data", name, *options, *COMMON, "--top", "3", "--csv", str(csv_path)]) == 0
    X, y = make()
    sorted_by_class = name in ("spiral", "vertical")  # shuffled by default
    result = fastnn.sweep(sizes, X, y, activation=activation, loss=loss, progress=False, shuffle=sorted_by_class,
                          **COMMON_API)
    out = capsys.readouterr().out
    assert f"8 configurations x 3 epochs on {len(X)} samples" in out
    assert ("shuffled every epoch (--no-shuffle to keep the order)" in out) == sorted_by_class
    assert table(out) == expected_table(result, 3)
    assert_bits_equal(csv_losses(csv_path), result.losses, f"{name}: CSV loss curves")


def write_csv(path, text):
    path.write_text(text)
    return str(path)


CSV_TEXT = (
    "sepal.length, x-1 ,my col,target\n"
    "1,2,3,4\n"
    "2,3,4,5.5\n"
    "\n"
    "3,1,2,6\n"
    "0.5,1.5,-2,1\n"
)
CSV_TABLE = np.array([[1, 2, 3, 4], [2, 3, 4, 5.5], [3, 1, 2, 6], [0.5, 1.5, -2, 1]])


@pytest.mark.parametrize("columns", ["named", "default"])
def test_csv_file_with_named_columns(tmp_path, capsys, columns):
    """Column names are used as written (dots, dashes, spaces; surrounding blanks
    stripped); by default the last column is the target and the others the inputs."""
    data = write_csv(tmp_path / "table.csv", CSV_TEXT)
    csv_path = tmp_path / "out.csv"
    if columns == "named":
        options, X, y = (["--inputs", "my col,sepal.length", "--targets", "x-1"], CSV_TABLE[:, [2, 0]],
                         CSV_TABLE[:, [1]])
    else:  # the same table without its first column
        data = write_csv(tmp_path / "three.csv", "\n".join(line.split(",", 1)[-1] for line in CSV_TEXT.split("\n")))
        options, X, y = [], CSV_TABLE[:, 1:3], CSV_TABLE[:, [3]]
    assert cli.main(["sweep", "--data", data, "--sizes", "2,2,1", *options, *COMMON, "--csv", str(csv_path)]) == 0
    result = fastnn.sweep([2, 2, 1], X, y, progress=False, **COMMON_API)
    assert table(capsys.readouterr().out) == expected_table(result, 8)
    assert_bits_equal(csv_losses(csv_path), result.losses, "CSV loss curves")


# an iris-like table: 4 numeric columns and the class as a name, in no sorted order
IRIS_SPECIES = ["virginica", "setosa", "versicolor"] * 5
IRIS_TEXT = "a,b,c,d,species\n" + "".join(
    f"{5 + (i % 4) * 0.3:.1f},{3 + (i % 3) * 0.2:.1f},{1 + i * 0.25:.2f},{(i % 5) * 0.4:.1f},{name}\n"
    for i, name in enumerate(IRIS_SPECIES))
# two numeric inputs and an integer class label column
LABELS = [2, 0, 1, 1, 0, 2, 0, 1, 2, 2, 1, 0]
LABELS_TEXT = "x1,x2,label\n" + "".join(f"{i * 0.1:.1f},{(i % 4) - 1.5},{c}\n" for i, c in enumerate(LABELS))
CLASSIFIER = ["--activation", "relu,softmax", "--loss", "categorical_cross_entropy"]


def test_csv_class_names_column(tmp_path, capsys):
    """One target column of names with a softmax output: classes in sorted order, the
    mapping printed; the numbers those of fastnn.sweep given the labels 0..2."""
    data = write_csv(tmp_path / "iris.csv", IRIS_TEXT)
    csv_path = tmp_path / "out.csv"
    assert cli.main(["sweep", "--data", data, "--sizes", "4,16,3", *CLASSIFIER, "--targets", "species",
                     "--lr", "0.01,0.1", "--seeds", "0", "--epochs", "3", "--csv", str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert "classes of species: 0 = setosa, 1 = versicolor, 2 = virginica" in out
    rows = np.loadtxt(IRIS_TEXT.splitlines()[1:], delimiter=",", usecols=range(4))
    y = np.array([sorted(set(IRIS_SPECIES)).index(name) for name in IRIS_SPECIES])
    result = fastnn.sweep([4, 16, 3], rows, y, activation=["relu", "softmax"], loss="categorical_cross_entropy",
                          lr=[0.01, 0.1], seeds=[0], epochs=3, init="he", progress=False)
    assert "2 configurations x 3 epochs on 15 samples" in out
    assert table(out) == expected_table(result, 2)
    assert_bits_equal(csv_losses(csv_path), result.losses, "CSV loss curves")


def test_csv_integer_label_column(tmp_path, capsys):
    """A numeric column of integer labels 0..C-1 with a softmax output: class labels."""
    data = write_csv(tmp_path / "labels.csv", LABELS_TEXT)
    csv_path = tmp_path / "out.csv"
    assert cli.main(["sweep", "--data", data, "--sizes", "2,4,3", "--activation", "tanh,softmax",
                     "--loss", "categorical_cross_entropy", *COMMON, "--csv", str(csv_path)]) == 0
    out = capsys.readouterr().out
    X = np.loadtxt(LABELS_TEXT.splitlines()[1:], delimiter=",", usecols=(0, 1))
    result = fastnn.sweep([2, 4, 3], X, np.array(LABELS), activation=["tanh", "softmax"],
                          loss="categorical_cross_entropy", progress=False, **COMMON_API)
    assert "classes of" not in out  # labels already: nothing to map
    assert table(out) == expected_table(result, 8)
    assert_bits_equal(csv_losses(csv_path), result.losses, "CSV loss curves")


@pytest.mark.parametrize("name, options, sizes, activation, line", [
    ("spiral", [], [2, 16, 3], ["relu", "softmax"],
     "spiral is a classification set (3 classes): --sizes 2,16,3 --activation relu,softmax "
     "--loss categorical_cross_entropy"),
    ("vertical", ["--classes", "4", "--sizes", "2,8,8,4"], [2, 8, 8, 4], ["relu", "relu", "softmax"],
     "vertical is a classification set (4 classes): --activation relu,relu,softmax --loss categorical_cross_entropy"),
])
def test_classification_sets_default_to_softmax(name, options, sizes, activation, line, capsys):
    """spiral and vertical without --sizes/--activation/--loss: a softmax output of one
    unit per class, categorical cross-entropy on the class labels; the choice printed."""
    assert cli.main(["sweep", "--data", name, "--samples", "10", *options, "--epochs", "2", "--lr", "0.01",
                     "--seeds", "0"]) == 0
    captured = capsys.readouterr()
    assert line in captured.out
    assert captured.err == ""
    X, y = getattr(datasets, name)(10, sizes[-1], seed=0)
    result = fastnn.sweep(sizes, X, y, activation=activation, loss="categorical_cross_entropy", lr=[0.01],
                          seeds=[0], epochs=2, init="he", shuffle=True, progress=False)
    assert table(captured.out) == expected_table(result, 1)


# scikit-learn's bundled data sets: (inputs, classes or None, the defaults printed)
SKLEARN_SETS = {
    "iris": (4, 3, "iris is a classification set (3 classes): --sizes 4,16,3 --activation relu,softmax"),
    "wine": (13, 3, "wine is a classification set (3 classes): --sizes 13,16,3"),
    "breast_cancer": (30, 2, "breast_cancer is a classification set (2 classes): --sizes 30,16,2"),
    "digits": (64, 10, "digits is a classification set (10 classes): --sizes 64,16,10"),
    "diabetes": (10, None, None),
}


@pytest.mark.parametrize("name", list(SKLEARN_SETS))
def test_sklearn_data_sets(name, capsys):
    """--data iris|wine|breast_cancer|digits|diabetes: scikit-learn's data, inputs
    standardised; classification sets get softmax + categorical cross-entropy with their
    own widths (and are shuffled), diabetes the regression defaults with its 10 inputs."""
    pytest.importorskip("sklearn")
    inputs, classes, line = SKLEARN_SETS[name]
    assert cli.main(["sweep", "--data", name, "--epochs", "2", "--lr", "0.001,0.01", "--seeds", "0",
                     "--batch-size", "16", "--top", "2"]) == 0
    captured = capsys.readouterr()
    X, y, names = datasets.sklearn_set(name, names=True)
    assert X.shape[1] == inputs and np.allclose(X.mean(axis=0), 0.0) and np.all(X.std(axis=0) <= 1.0 + 1e-12)
    if classes is None:
        assert y.shape == (len(X), 1) and names is None and "classification" not in captured.out
        kwargs = dict(activation="relu", loss="squared_error", shuffle=False)
        sizes = [inputs, 16, 1]
    else:
        assert line in captured.out and f"classes of {name}: 0 = {names[0]}" in captured.out
        assert "shuffled every epoch" in captured.out and len(names) == classes
        kwargs = dict(activation=["relu", "softmax"], loss="categorical_cross_entropy", shuffle=True)
        sizes = [inputs, 16, classes]
    result = fastnn.sweep(sizes, X, y, lr=[0.001, 0.01], seeds=[0], batch_size=[16], epochs=2, init="he",
                          progress=False, **kwargs)
    assert table(captured.out) == expected_table(result, 2)


def test_sklearn_data_sets_without_sklearn(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises ImportError
    with pytest.raises(SystemExit, match="scikit-learn's bundled data sets, and scikit-learn is not installed: "
                                         "pip install 'fastnn\\[sklearn\\]'"):
        cli.main(["sweep", "--data", "iris", "--epochs", "2"])
    assert capsys.readouterr().out == ""


def test_class_labels_fitted_as_numbers_get_a_note(capsys):
    """An explicit regression set-up on spiral runs (as asked) with a note on stderr."""
    assert cli.main(["sweep", "--data", "spiral", "--samples", "10", "--loss", "squared_error", "--activation",
                     "relu", "--sizes", "2,2,1", "--epochs", "2", "--lr", "0.01", "--seeds", "0"]) == 0
    captured = capsys.readouterr()
    assert "is a classification set" not in captured.out
    assert "spiral's targets are class labels (0..2), fitted as numbers by --loss squared_error" in captured.err
    assert "--sizes 2,16,3 --activation relu,softmax --loss categorical_cross_entropy" in captured.err
    X, y = datasets.spiral(10, 3, seed=0)
    result = fastnn.sweep([2, 2, 1], X, y, lr=[0.01], seeds=[0], epochs=2, init="he", shuffle=True, progress=False)
    assert table(captured.out) == expected_table(result, 1)


def test_no_shuffle_keeps_the_order_and_warns(capsys):
    """--no-shuffle on a class-sorted set trains in order (as fit with shuffle=False) and
    warns that the epoch loss misleads; a stuck configuration is counted and marked."""
    with pytest.warns(fastnn.TrainingWarning, match="sorted by class"):
        assert cli.main(["sweep", "--data", "spiral", "--samples", "10", "--no-shuffle", "--epochs", "2",
                         "--lr", "0.01", "--seeds", "0"]) == 0
    out = capsys.readouterr().out
    assert "shuffled every epoch" not in out
    X, y = datasets.spiral(10, 3, seed=0)
    result = fastnn.sweep([2, 16, 3], X, y, activation=["relu", "softmax"], loss="categorical_cross_entropy",
                          lr=[0.01], seeds=[0], epochs=2, init="he", progress=False)
    assert table(out) == expected_table(result, 1)


def test_stuck_configurations_are_counted_and_marked(capsys):
    """The quadratic set's 2-2-1 ReLU grid has init seeds whose output ReLU starts dead."""
    assert cli.main(["sweep", "--samples", "20", "--lr", "0.001", "--seeds", "0:16", "--epochs", "2",
                     "--top", "16"]) == 0
    out = capsys.readouterr().out
    X, y = datasets.quadratic(20, seed=0)
    result = fastnn.sweep([2, 2, 1], X, y, lr=[0.001], seeds=range(16), epochs=2, init="he", progress=False)
    assert 0 < result.n_stuck < 16
    assert f"diverged, {result.n_stuck} stuck" in out and f"stuck: {result.n_stuck} configurations never changed" in out
    assert sum(line.endswith("  stuck") for line in out.splitlines()) == result.n_stuck


def test_regression_defaults_unchanged(capsys):
    """quadratic (and the binary sets) keep 2,2,1 / relu / squared_error, with no note."""
    assert cli.main(["sweep", "--samples", "20", *COMMON]) == 0
    captured = capsys.readouterr()
    X, y = datasets.quadratic(20, seed=0)
    assert table(captured.out) == expected_table(fastnn.sweep([2, 2, 1], X, y, progress=False, **COMMON_API), 8)
    assert "classification" not in captured.out + captured.err


def test_large_grid_needs_allow_large(monkeypatch, capsys):
    monkeypatch.setattr(sweep_module, "MAX_CONFIGS", 7)
    args = ["sweep", "--samples", "20", *COMMON]
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    assert "allow_large" in str(exc.value.code)
    assert cli.main(args + ["--allow-large"]) == 0
    assert len(table(capsys.readouterr().out)) == 8


# ------------------------------------------------------------------ held-out data and stopping


def monitored_table(out):
    """The rows of the printed ranking of a sweep with validation data or stopping, as
    lists of tokens: rank, config, lr, seed, hidden, batch, loss, [val_loss, [val_acc,]]
    best_epoch, then any notes (stuck, stopped after n epochs, pruned after r epochs)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["rank", "config"])
    assert "best_epoch" in lines[start].split()
    rows = []
    for line in lines[start + 1:]:
        tokens = line.split()
        if not tokens or not tokens[0].isdigit():
            break
        rows.append(tokens)
    return rows


def expected_monitored_table(result, top):
    rows = []
    for rank, row in enumerate(result.best(top), 1):
        tokens = [str(rank), str(row["index"]), f"{row['lr']:.4g}", str(row["seed"]), str(row["hidden"]),
                  str(row["batch_size"]), f"{row['loss']:.6g}"]
        if result.val_losses is not None:
            tokens.append(f"{row['val_loss']:.6g}")
        if result.val_accuracy is not None:
            tokens.append(f"{row['val_accuracy']:.4g}")
        tokens.append(str(row["best_epoch"]))
        tokens += ["stuck"] if row["stuck"] else []
        names = row.dtype.names
        if "pruned_epoch" in names and row["pruned_epoch"] >= 0:
            n = row["pruned_epoch"]
            tokens += ["pruned", "after", str(n), "epoch" if n == 1 else "epochs"]
        elif "stopped_epoch" in names and row["stopped_epoch"] >= 0:
            n = row["stopped_epoch"] + 1
            tokens += ["stopped", "after", str(n), "epoch" if n == 1 else "epochs"]
        rows.append(tokens)
    return rows


def csv_columns(path, prefix):
    """The columns prefix1, prefix2, ... of a CSV file as a (rows, epochs) array."""
    with open(path, newline="") as handle:
        head, *rows = list(csv.reader(handle))
    columns = [j for j, name in enumerate(head) if name.startswith(prefix) and name[len(prefix):].isdigit()]
    return np.array([[float(row[j]) for j in columns] for row in rows])


def test_validation_split_patience_and_halving(tmp_path, capsys):
    """--validation, --patience, --halving: fastnn.sweep's numbers, the table ranked by
    validation loss at the best epoch, the validation curves in the CSV, the plot."""
    csv_path, png_path = tmp_path / "grid.csv", tmp_path / "grid.png"
    assert cli.main(["sweep", "--samples", "20", *COMMON, "--validation", "0.25", "--patience", "1",
                     "--min-delta", "0.01", "--halving", "2", "--top", "8", "--csv", str(csv_path),
                     "--plot", str(png_path)]) == 0
    out = capsys.readouterr().out
    X, y = datasets.quadratic(20, seed=0)
    result = fastnn.sweep([2, 2, 1], X, y, progress=False, validation_split=0.25, patience=1, min_delta=0.01,
                          halving=fastnn.Halving(eta=2, first_rung=1), **COMMON_API)
    assert "8 configurations x 3 epochs on 15 samples (+5 held out)" in out
    assert "validation: 5 samples held out (--validation 0.25; drawn with seed 0)" in out
    assert f"patience 1: {result.n_stopped} configurations stopped early" in out
    assert (f"halving (eta 2, first rung 1): after 1, 2 epochs 1/2 of the configurations went on; "
            f"{result.n_pruned} pruned") in out
    assert result.n_pruned and result.n_stopped  # both show in the table
    rows = monitored_table(out)
    assert rows == expected_monitored_table(result, 8) and len(rows) == 8
    assert [int(row[1]) for row in rows] == list(result.best(8, by="val_loss")["index"])
    assert_bits_equal(csv_columns(csv_path, "loss_"), result.losses, "CSV loss curves")
    assert_bits_equal(csv_columns(csv_path, "val_loss_"), result.val_losses, "CSV validation curves")
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_patience_without_validation_data(capsys):
    """--patience alone watches the training loss: no validation columns."""
    assert cli.main(["sweep", "--samples", "20", *COMMON, "--patience", "1"]) == 0
    out = capsys.readouterr().out
    X, y = datasets.quadratic(20, seed=0)
    result = fastnn.sweep([2, 2, 1], X, y, progress=False, patience=1, **COMMON_API)
    assert result.val_losses is None and "validation:" not in out
    assert "best by training loss at each configuration's best epoch" in out
    assert monitored_table(out) == expected_monitored_table(result, 8)


VALIDATION_SPECIES = ["setosa", "virginica", "setosa", "virginica"]  # no versicolor: numbered as the training data
VALIDATION_TEXT = "a,b,c,d,species\n" + "".join(
    f"{5.1 + i * 0.2:.1f},{3.1 - i * 0.1:.1f},{1.5 + i:.1f},{0.2 + i * 0.3:.1f},{name}\n"
    for i, name in enumerate(VALIDATION_SPECIES))


def test_validation_data_file_with_class_names(tmp_path, capsys):
    """--validation-data FILE: read as --data is, its class names numbered as the
    training data's; the table shows validation loss and accuracy."""
    data = write_csv(tmp_path / "iris.csv", IRIS_TEXT)
    held_out = write_csv(tmp_path / "held_out.csv", VALIDATION_TEXT)
    csv_path = tmp_path / "out.csv"
    assert cli.main(["sweep", "--data", data, "--sizes", "4,16,3", *CLASSIFIER, "--targets", "species",
                     "--lr", "0.01,0.1", "--seeds", "0", "--epochs", "3", "--validation-data", held_out,
                     "--csv", str(csv_path)]) == 0
    out = capsys.readouterr().out
    rows = np.loadtxt(IRIS_TEXT.splitlines()[1:], delimiter=",", usecols=range(4))
    y = np.array([sorted(set(IRIS_SPECIES)).index(name) for name in IRIS_SPECIES])
    Xv = np.loadtxt(VALIDATION_TEXT.splitlines()[1:], delimiter=",", usecols=range(4))
    yv = np.array([[0, 2][i % 2] for i in range(4)])
    result = fastnn.sweep([4, 16, 3], rows, y, activation=["relu", "softmax"], loss="categorical_cross_entropy",
                          lr=[0.01, 0.1], seeds=[0], epochs=3, init="he", progress=False, validation_data=(Xv, yv))
    assert "2 configurations x 3 epochs on 15 samples (+4 held out)" in out
    assert f"validation: 4 samples from {held_out}" in out
    header = next(line for line in out.splitlines() if line.split()[:2] == ["rank", "config"])
    assert header.split()[-3:] == ["val_loss", "val_acc", "best_epoch"]
    assert monitored_table(out) == expected_monitored_table(result, 2)
    assert_bits_equal(csv_columns(csv_path, "val_loss_"), result.val_losses, "CSV validation curves")
    with open(csv_path, newline="") as handle:
        head = next(csv.reader(handle))
    assert head[head.index("final_loss") + 1:head.index("loss_1")] == ["best_epoch", "val_loss", "val_accuracy"]


IRIS_CLASSIFIER = ["--sizes", "4,16,3", *CLASSIFIER]
BAD_HELD_OUT = [
    ("validation-one", ["--validation", "1"], "--validation is the fraction of the samples held out"),
    ("validation-zero", ["--validation", "0"], "strictly between 0 and 1, got 0"),
    ("validation-too-small", ["--validation", "0.01"], "leaves no validation sample"),
    ("patience-zero", ["--patience", "0"], "--patience must be at least 1 epoch, got 0"),
    ("min-delta-negative", ["--min-delta=-0.5"], "--min-delta must be finite and >= 0, got -0.5"),
    ("min-delta-nan", ["--min-delta", "nan"], "--min-delta must be finite"),
    ("halving-one", ["--halving", "1"], "--halving ETA keeps 1/ETA"),
    ("first-rung-alone", ["--first-rung", "2"], "--first-rung goes with --halving"),
    ("first-rung-past-epochs", ["--halving", "3", "--first-rung", "4"], "--first-rung must lie in 1..--epochs (3)"),
    ("first-rung-zero", ["--halving", "3", "--first-rung", "0"], "got 0"),
    ("validation-file-missing", ["--validation-data", "missing.csv"], "--validation-data 'missing.csv': no such file"),
    ("validation-file-folder", ["--validation-data", "{tmp}"], "is a folder"),
    ("validation-file-columns", ["--validation-data", "{wide}"], "validation_data: X must have 2 columns"),
    ("validation-file-column-missing", ["--data", "{csv}", "--inputs", "a,b", "--targets", "c",
                                        "--validation-data", "{other}"], "column 'b' is not in"),
    ("validation-file-unknown-class", ["--data", "{iris}", *IRIS_CLASSIFIER, "--validation-data", "{rosa}"],
     "holds class(es) 'rosa' that the training data does not have"),
    ("validation-file-numbers-for-names", ["--data", "{iris}", *IRIS_CLASSIFIER, "--validation-data", "{numbered}"],
     "must name the training data's classes"),
    ("validation-file-names-for-numbers", ["--data", "{labels}", "--sizes", "2,4,3", "--activation", "tanh,softmax",
                                           "--loss", "categorical_cross_entropy", "--validation-data", "{named}"],
     "must hold class numbers"),
]


@pytest.mark.parametrize("extra, text", [case[1:] for case in BAD_HELD_OUT], ids=[case[0] for case in BAD_HELD_OUT])
def test_bad_held_out_options_fail_clearly_before_any_work(tmp_path, monkeypatch, extra, text):
    monkeypatch.setattr(sweep_module, "_kernel", _no_kernel)
    monkeypatch.setattr(sweep_module, "_group_kernel", _no_kernel, raising=False)
    files = dict(tmp=str(tmp_path), csv=write_csv(tmp_path / "abc.csv", CSV_BAD),
                 wide=write_csv(tmp_path / "wide.csv", "a,b,c,d\n1,2,3,4\n"),
                 other=write_csv(tmp_path / "other.csv", "a,x,c\n1,2,3\n"),
                 iris=write_csv(tmp_path / "iris.csv", IRIS_TEXT),
                 rosa=write_csv(tmp_path / "rosa.csv", "a,b,c,d,species\n1,2,3,4,setosa\n1,2,3,4,rosa\n"),
                 numbered=write_csv(tmp_path / "numbered.csv", "a,b,c,d,species\n1,2,3,4,0\n"),
                 labels=write_csv(tmp_path / "labels.csv", LABELS_TEXT),
                 named=write_csv(tmp_path / "named.csv", "x1,x2,label\n1,2,one\n"))
    extra = [arg.format(**files) for arg in extra]
    with pytest.raises(SystemExit) as exc:
        cli.main(["sweep", "--samples", "20", "--epochs", "3", *extra])
    message = str(exc.value.code)
    assert isinstance(exc.value.code, str) and message.startswith("fastnn"), message  # exit status 1
    assert text in message, message


def test_validation_and_validation_data_exclude_each_other(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["sweep", "--validation", "0.2", "--validation-data", write_csv(tmp_path / "v.csv", CSV_BAD)])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


# ------------------------------------------------------------------ bad options

CSV_BAD = "a,b,c\n1,2,3\n4,5,6\n"

# (case id, extra arguments, text the message must hold); "{csv}" is a CSV file with columns a, b, c
BAD = [
    ("lr-empty", ["--lr", ","], "lr must not be empty"),
    ("lr-zero", ["--lr", "0,0.1"], "lr must be positive"),
    ("lr-negative", ["--lr=-0.1"], "lr must be positive"),
    ("lr-not-a-number", ["--lr", "fast"], "--lr"),
    ("lr-duplicate", ["--lr", "0.1,0.1"], "lr has duplicate"),
    ("seeds-empty-range", ["--seeds", "3:3"], "seeds must not be empty"),
    ("seeds-negative", ["--seeds=-1"], "seeds"),
    ("seeds-float", ["--seeds", "1.5"], "--seeds"),
    ("hidden-zero", ["--hidden", "0"], "hidden"),
    ("hidden-bad-tuple", ["--hidden", "2x"], "--hidden"),
    ("batch-zero", ["--batch-size", "0"], "batch_size"),
    ("batch-over-n", ["--batch-size", "21"], "batch_size"),
    ("batch-empty", ["--batch-size", "5:5"], "batch_size must not be empty"),
    ("epochs-zero", ["--epochs", "0"], "epochs"),
    ("checkpoint-after-last-epoch", ["--checkpoints", "2,4"], "checkpoints"),
    ("checkpoint-zero", ["--checkpoints", "0"], "checkpoints"),
    ("sizes-not-numbers", ["--sizes", "2,x,1"], "--sizes"),
    ("sizes-vs-data", ["--sizes", "3,2,1"], "X must have 3 columns"),
    ("activation-unknown", ["--activation", "swish"], "activation"),
    ("loss-unknown", ["--loss", "hinge"], "loss"),
    ("init-unknown", ["--init", "uniform"], "init"),
    ("data-unknown", ["--data", "no-such-set"], "--data"),
    ("top-zero", ["--top", "0"], "--top"),
    ("csv-folder-missing", ["--csv", "{tmp}/missing/out.csv"], "--csv"),
    ("plot-folder-missing", ["--plot", "{tmp}/missing/out.png"], "--plot"),
    ("column-unknown", ["--data", "{csv}", "--inputs", "a,z"], "'z' is not in"),
    ("column-repeated", ["--data", "{csv}", "--inputs", "a,a"], "--inputs names column(s) a more than once"),
    ("column-input-and-target", ["--data", "{csv}", "--inputs", "a,b", "--targets", "b"], "both"),
    ("csv-not-numbers", ["--data", "{bad}"], "must hold numbers"),
    ("csv-not-numbers-names-column", ["--data", "{bad}"], "column 'b' of"),
    ("csv-not-numbers-names-value", ["--data", "{bad}"], "'five'"),
    # a column of class names: only as the single target of a softmax output
    ("csv-names-as-input", ["--data", "{iris}", "--inputs", "a,species", "--targets", "d"],
     "input column 'species' of"),
    ("csv-names-as-input-value", ["--data", "{iris}", "--inputs", "a,species", "--targets", "d"],
     "line 2 has 'virginica'"),
    ("csv-names-without-softmax", ["--data", "{iris}", "--sizes", "4,2,1"], "--loss categorical_cross_entropy"),
    ("csv-names-two-targets", ["--data", "{iris}", "--targets", "d,species", "--sizes", "3,2,4",
                               "--activation", "relu,softmax", "--loss", "categorical_cross_entropy"], "'virginica'"),
    ("csv-classes-vs-sizes", ["--data", "{iris}", "--sizes", "4,3,2", "--activation", "relu,softmax",
                              "--loss", "categorical_cross_entropy"], "species has 3 classes but --sizes ends in 2 outputs"),
    ("csv-int-labels-vs-sizes", ["--data", "{labels}", "--sizes", "2,4,2", "--activation", "tanh,softmax",
                                 "--loss", "categorical_cross_entropy"], "label has 3 classes but --sizes ends in 2"),
    ("csv-labels-not-integers", ["--data", "{table}", "--sizes", "3,4,3", "--activation", "tanh,softmax",
                                 "--loss", "categorical_cross_entropy"], "column 'target' of"),
    ("csv-labels-not-integers-value", ["--data", "{table}", "--sizes", "3,4,3", "--activation", "tanh,softmax",
                                       "--loss", "categorical_cross_entropy"], "must hold class labels"),
    ("spiral-classes-vs-sizes", ["--data", "spiral", "--sizes", "2,4,2", "--activation", "tanh,softmax",
                                 "--loss", "categorical_cross_entropy"], "spiral has 3 classes but --sizes ends in 2"),
    ("spiral-default-output-vs-classes", ["--data", "spiral", "--classes", "2", "--sizes", "2,4,3"],
     "spiral has 2 classes but --sizes ends in 3"),
    ("spiral-classes-zero", ["--data", "spiral", "--classes", "0"], "--classes must be at least 1"),
    ("spiral-softmax-loss-relu-output", ["--data", "spiral", "--loss", "categorical_cross_entropy",
                                         "--activation", "relu"], "needs a softmax output"),
    ("csv-label-missing", ["--data", "{nolabel}", "--sizes", "2,4,3", "--activation", "tanh,softmax",
                           "--loss", "categorical_cross_entropy"], "'label' of"),
    # a file name that does not exist: said so; a bare unknown name: the known data sets listed
    ("data-missing-file", ["--data", "missing.csv"], "--data 'missing.csv': no such file"),
    ("data-missing-path", ["--data", "{tmp}/no/data"], "no/data': no such file"),
    ("data-unknown-lists-sets", ["--data", "no-such-set"], "quadratic, gender, xor, spiral, vertical"),
]


@pytest.mark.parametrize("extra, text", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_options_fail_clearly_before_any_work(tmp_path, monkeypatch, extra, text):
    monkeypatch.setattr(sweep_module, "_kernel", _no_kernel)
    files = dict(tmp=str(tmp_path), csv=write_csv(tmp_path / "abc.csv", CSV_BAD),
                 bad=write_csv(tmp_path / "bad.csv", "a,b,c\n1,2,3\n4,five,6\n"),
                 iris=write_csv(tmp_path / "iris.csv", IRIS_TEXT),
                 labels=write_csv(tmp_path / "labels.csv", LABELS_TEXT),
                 table=write_csv(tmp_path / "table.csv", CSV_TEXT),
                 nolabel=write_csv(tmp_path / "nolabel.csv", "x1,x2,label\n1,2,a\n3,4, \n"))
    extra = [arg.format(**files) for arg in extra]
    with pytest.raises(SystemExit) as exc:
        cli.main(["sweep", "--samples", "20", "--epochs", "3", *extra])
    message = str(exc.value.code)
    assert isinstance(exc.value.code, str) and message.startswith("fastnn"), message  # exit status 1
    assert text in message
    assert "Traceback" not in message


# ------------------------------------------------------------------ a real process


def test_python_m_fastnn_sweep(tmp_path):
    """The command in its own process: exit status 0, the table on stdout, nothing on
    stderr (not a terminal: no progress bar), the CSV written."""
    csv_path = tmp_path / "sweep.csv"
    run = subprocess.run(
        [sys.executable, "-m", "fastnn", "sweep", "--data", "xor", "--sizes", "2,3,1", "--activation",
         "gaussian,sigmoid", "--loss", "binary_cross_entropy", *COMMON, "--top", "2", "--csv", str(csv_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    X, y = datasets.xor()
    result = fastnn.sweep([2, 3, 1], X, y, activation=["gaussian", "sigmoid"], loss="binary_cross_entropy",
                          progress=False, **COMMON_API)
    assert table(run.stdout) == expected_table(result, 2)
    assert_bits_equal(csv_losses(csv_path), result.losses, "CSV loss curves")
