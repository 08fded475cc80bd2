"""The ``fastnn`` command (also ``python -m fastnn``)."""
from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys

import numpy as np

from . import datasets
from .seeds import SEED000_EPOCHS


def demo(args):
    """The main job: seed 000's experiments as one sweep (fastnn.demo)."""
    from . import demo as main_job

    if args.validation_samples < 1:
        raise SystemExit(f"fastnn demo: --validation-samples must be at least 1, got {args.validation_samples}")
    return main_job.run(args.n_lr, args.n_seeds, args.epochs, args.out, args.check, args.data_seed,
                        n_val=args.validation_samples)


def seeds(args):
    """The seed walkthroughs (fastnn.walkthrough), each document's hand-derived step run
    through fastnn.audit: exit status 0 when kernel = reference."""
    from . import walkthrough

    return walkthrough.run(args.seed, args.plot)


def _floats(text):
    """"a,b,c" or "start:stop:count" (log-spaced) -> list of floats."""
    if text.count(":") == 2:
        start, stop, count = text.split(":")
        return [float(v) for v in np.geomspace(float(start), float(stop), int(count))]
    return [float(v) for v in text.split(",") if v]


def _ints(text):
    """"a,b,c" or "start:stop" (a range) -> list of ints."""
    if text.count(":") == 1:
        start, stop = text.split(":")
        return list(range(int(start), int(stop)))
    return [int(v) for v in text.split(",") if v]


def _hidden(text):
    """"8,16,4x4" -> [8, 16, (4, 4)]."""
    return [tuple(int(w) for w in item.split("x")) if "x" in item else int(item) for item in text.split(",") if item]


def _names(text):
    return [v for v in text.split(",") if v] if text else None


PLOT_FORMATS = (".png", ".pdf", ".svg", ".jpg", ".jpeg")
# scikit-learn's bundled data sets (need scikit-learn): inputs standardised; diabetes has a
# numeric target, the others class labels
SKLEARN_SETS = tuple(datasets.SKLEARN_SETS)
DATA_SETS = ("quadratic", "gender", "xor", "spiral", "vertical", *SKLEARN_SETS)
CLASSIFICATION_SETS = ("spiral", "vertical")  # y: int64 class labels 0..--classes - 1
CCE = "categorical_cross_entropy"
REGRESSION_DEFAULTS = dict(sizes="2,2,1", activation="relu", loss="squared_error")


def _set_shape(args):
    """(inputs, classes) of a named data set: classes is None for a numeric target;
    (None, None) for a CSV file."""
    if args.data in CLASSIFICATION_SETS:
        return 2, args.classes
    if args.data in SKLEARN_SETS:
        _, inputs, classes = datasets.SKLEARN_SETS[args.data]
        return inputs, classes
    if args.data in DATA_SETS:
        return 2, None
    return None, None


def _require_sklearn(name):
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise SystemExit(f"fastnn: --data {name} is one of scikit-learn's bundled data sets, and scikit-learn is "
                         "not installed: pip install 'fastnn[sklearn]' (or scikit-learn), or give a CSV file") from None


def _classifier_activation(sizes_text):
    """relu on every hidden layer of --sizes and a softmax output: "relu,relu,softmax"."""
    return ",".join(["relu"] * max(sizes_text.count(",") - 1, 0) + ["softmax"])


def _setup(args):
    """(sizes, activation, loss) as text: the options given, the rest from the data set.

    spiral and vertical (class labels) default to a softmax output of --classes units
    and categorical cross-entropy, and so do iris, wine, breast_cancer and digits (with
    their own numbers of inputs and classes: 4,16,3 for iris), unless the options given
    ask for another output (then the regression defaults fill in, with a note that the
    labels are fitted as numbers); diabetes defaults to 10,16,1 / relu / squared_error,
    every other data set to 2,2,1 / relu / squared_error.
    """
    given = dict(sizes=args.sizes, activation=args.activation, loss=args.loss)
    if args.data in SKLEARN_SETS:
        _require_sklearn(args.data)
    inputs, classes = _set_shape(args)
    regression = dict(REGRESSION_DEFAULTS)
    if args.data in SKLEARN_SETS:
        regression["sizes"] = f"{inputs},16,1"
    if classes is None:
        return tuple(regression[k] if v is None else v for k, v in given.items())
    if classes < 1:
        raise SystemExit(f"fastnn: --classes must be at least 1, got {classes}")
    sizes = given["sizes"] if given["sizes"] is not None else f"{inputs},16,{classes}"
    classifier = dict(sizes=sizes, activation=_classifier_activation(sizes), loss=CCE)
    wants_softmax = given["activation"] is None or given["activation"].split(",")[-1] == "softmax"
    if given["loss"] == CCE or (given["loss"] is None and wants_softmax):
        chosen = [f"--{k} {v}" for k, v in classifier.items() if given[k] is None]
        if chosen:
            print(f"{args.data} is a classification set ({classes} classes): {' '.join(chosen)}")
        return tuple(classifier[k] if v is None else v for k, v in given.items())
    setup = tuple(regression[k] if v is None else v for k, v in given.items())
    labels = f"0..{classes - 1}" if classes > 1 else "0"
    print(f"fastnn sweep: note: {args.data}'s targets are class labels ({labels}), fitted as numbers by "
          f"--loss {setup[2]} with a {setup[1].split(',')[-1]} output; to classify, pass "
          f"--sizes {inputs},16,{classes} --activation relu,softmax --loss {CCE} (or leave out --sizes, "
          "--activation and --loss)", file=sys.stderr)
    return setup


def _labels(values, column, name, known=None):
    """A target column as class labels: (int64 labels, class names or None).

    Integers 0.. are labels as they are; a column holding anything else than numbers
    names its classes, numbered in sorted order, or by ``known`` (the training data's
    class names, for a validation file) when given; ``known`` False: the training data's
    labels are numbers, and these must be too.
    """
    try:
        numbers = np.array([float(v) for v in values])
    except ValueError:
        if known is False:
            raise SystemExit(f"fastnn: column {column!r} of {name} must hold class numbers 0, 1, ..., as the "
                             "training data's labels are numbers") from None
        names = sorted(set(values)) if known is None else list(known)
        index = {label: k for k, label in enumerate(names)}
        unknown = sorted(set(values) - set(index))
        if unknown:
            raise SystemExit(f"fastnn: column {column!r} of {name} holds class(es) {', '.join(map(repr, unknown))} "
                             f"that the training data does not have (its classes: {', '.join(names)})") from None
        return np.array([index[v] for v in values], dtype=np.int64), names
    if known:
        raise SystemExit(f"fastnn: column {column!r} of {name} must name the training data's classes "
                         f"({', '.join(known)}), not number them")
    bad = [v for v, x in zip(values, numbers) if not (np.isfinite(x) and 0 <= x < 2**31 and x == np.round(x))]
    if bad:
        raise SystemExit(f"fastnn: column {column!r} of {name} must hold class labels (integers 0, 1, ... or "
                         f"names) for --loss {CCE}; found {bad[0]!r}")
    return numbers.astype(np.int64), None


def _data(args, loss=None):
    """(X, y, classes) from a data set name or a CSV file.

    classes: None, or (column, number of classes, class names or None) when y is a CSV
    column of class labels (one target column, ``loss`` categorical cross-entropy).
    """
    name = args.data
    if args.samples is not None and args.samples < 1:
        raise SystemExit(f"fastnn: --samples must be at least 1, got {args.samples}")
    if name == "quadratic":
        return (*datasets.quadratic(args.samples or 100, seed=args.data_seed), None)
    if name == "gender":
        return (*datasets.gender(), None)
    if name == "xor":
        return (*datasets.xor(), None)
    if name in CLASSIFICATION_SETS:  # y: int64 labels (n,), as the data set gives them
        return (*getattr(datasets, name)(args.samples or 100, args.classes, seed=args.data_seed), None)
    if name in SKLEARN_SETS:
        _require_sklearn(name)
        X, y, names = datasets.sklearn_set(name, names=True)
        return X, y, (None if names is None else (name, len(names), names))
    if not os.path.exists(name):
        if os.path.splitext(name)[1] or "/" in name or os.sep in name or (os.altsep and os.altsep in name):
            raise SystemExit(f"fastnn: --data {name!r}: no such file")
        raise SystemExit(f"fastnn: --data must be {', '.join(DATA_SETS)} or a CSV file; got {name!r}")
    return _csv_data(name, "--data", args, loss)


def _validation_data(args, loss, classes):
    """(X_val, y_val) from the --validation-data CSV file, read as a --data file is (the
    same --inputs and --targets; class names numbered as the training data's
    ``classes``)."""
    name = args.validation_data
    if not os.path.exists(name):
        raise SystemExit(f"fastnn: --validation-data {name!r}: no such file")
    known = None if not classes else False if classes[2] is None else classes[2]  # False: numbers
    X, y, _ = _csv_data(name, "--validation-data", args, loss, known)
    return X, y


def _csv_data(name, option, args, loss=None, known=None):
    """(X, y, classes) from a CSV file with a header row (see _data); ``known``: class
    names the label column must use (a validation file)."""
    if os.path.isdir(name):
        raise SystemExit(f"fastnn: {option} {name!r} is a folder; give a CSV file")
    # csv, not np.genfromtxt(names=True): that rewrites names ("sepal.length" -> "sepallength")
    try:
        with open(name, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            rows = [(reader.line_num, row) for row in reader if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SystemExit(f"fastnn: cannot read {option} {name!r} as a CSV text file: {exc}") from None
    if len(rows) < 2:
        raise SystemExit(f"fastnn: {name} needs a header row of column names and at least one row of numbers")
    columns = [c.strip() for c in rows[0][1]]
    for line, row in rows[1:]:
        if len(row) != len(columns):
            raise SystemExit(f"fastnn: every row of {name} must have {len(columns)} values, one per column; "
                             f"line {line} has {len(row)}")
    targets = _names(args.targets) or columns[-1:]
    inputs = _names(args.inputs) or [c for c in columns if c not in targets]
    for option, names in (("--inputs", inputs), ("--targets", targets)):
        repeated = sorted({c for c in names if names.count(c) > 1})
        if repeated:
            raise SystemExit(f"fastnn: {option} names column(s) {', '.join(repeated)} more than once")
    both = [c for c in inputs if c in targets]
    if both:
        raise SystemExit(f"fastnn: column(s) {', '.join(both)} cannot be both --inputs and --targets")
    for column in inputs + targets:
        if column not in columns:
            raise SystemExit(f"fastnn: column {column!r} is not in {name} (columns: {', '.join(columns)})")
        if columns.count(column) > 1:
            raise SystemExit(f"fastnn: {name} has more than one column named {column!r}")
    label_column = len(targets) == 1 and loss == CCE

    def numbers(column, role):
        j = columns.index(column)
        out = np.empty(len(rows) - 1)
        for i, (line, row) in enumerate(rows[1:]):
            try:
                out[i] = float(row[j])
            except ValueError:
                hint = ""
                if role == "target" and not label_column:
                    hint = (f"; a column of class names can be the single --targets column of a softmax output "
                            f"(--activation ...,softmax --loss {CCE})")
                raise SystemExit(f"fastnn: {role} column {column!r} of {name} must hold numbers below its "
                                 f"header; line {line} has {row[j].strip()!r}{hint}") from None
        return out

    X = np.column_stack([numbers(c, "input") for c in inputs]) if inputs else np.empty((len(rows) - 1, 0))
    if label_column:
        column = targets[0]
        values = [row[columns.index(column)].strip() for _, row in rows[1:]]
        if "" in values:
            line = rows[1 + values.index("")][0]
            raise SystemExit(f"fastnn: target column {column!r} of {name} has no class label on line {line}")
        y, class_names = _labels(values, column, name, known)
        n_classes = len(class_names) if class_names is not None else int(y.max()) + 1
        return X, y, (column, n_classes, class_names)
    y = np.column_stack([numbers(c, "target") for c in targets])
    return X, y, None


@contextlib.contextmanager
def _dask_client(args):
    """None, or a dask.distributed Client: connected to --scheduler, or to a LocalCluster
    of --workers processes (one thread each) closed at the end."""
    if args.scheduler is None and args.workers is None:
        yield None
        return
    option = "--scheduler" if args.scheduler is not None else "--workers"
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SystemExit(f"fastnn sweep: {option} needs dask.distributed: pip install 'fastnn[dask]'") from None
    if args.scheduler is not None:
        try:
            client = Client(args.scheduler, timeout=30)
        except (OSError, ValueError, TimeoutError) as exc:
            raise SystemExit(f"fastnn sweep: cannot connect to --scheduler {args.scheduler!r}: {exc}") from None
        with client:
            print(f"dask: {len(client.nthreads())} workers at {args.scheduler}")
            yield client
        return
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        print(f"dask: a local cluster of {args.workers} worker processes")
        yield client


def sweep_command(args):
    """Train a grid of configurations; print the best; write --csv and --plot."""
    from .sweep import sweep

    def parse(convert, text, option):
        try:
            return convert(text)
        except ValueError as exc:
            raise SystemExit(f"fastnn sweep: cannot read {option} {text!r}: {exc}") from None

    # checked before training, so that a long sweep is not lost at the end
    if args.top < 1:
        raise SystemExit(f"fastnn sweep: --top must be at least 1, got {args.top}")
    if args.workers is not None and args.workers < 1:
        raise SystemExit(f"fastnn sweep: --workers must be at least 1, got {args.workers}")
    for option, path in (("--csv", args.csv), ("--plot", args.plot)):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise SystemExit(f"fastnn sweep: {option} {path!r}: its folder does not exist")
        if path and os.path.isdir(path):
            raise SystemExit(f"fastnn sweep: {option} {path!r} is a folder; give a file name")
    if args.plot and os.path.splitext(args.plot)[1].lower() not in PLOT_FORMATS:
        raise SystemExit(f"fastnn sweep: --plot {args.plot!r} must end in one of {', '.join(PLOT_FORMATS)}")
    monitor = _monitor_options(args)
    sizes_text, activation_text, loss = _setup(args)
    sizes = parse(lambda text: [int(v) for v in text.split(",")], sizes_text, "--sizes")
    activation = activation_text if "," not in activation_text else activation_text.split(",")
    X, y, classes = _data(args, loss)
    if loss == CCE and sizes and (classes or args.data in CLASSIFICATION_SETS):
        column, n_classes, class_names = classes or (args.data, args.classes, None)
        if n_classes != sizes[-1]:
            listed = f" (classes: {', '.join(class_names)})" if class_names else ""
            raise SystemExit(f"fastnn sweep: {column} has {n_classes} classes but --sizes ends in "
                             f"{sizes[-1]} output{'s' if sizes[-1] != 1 else ''}{listed}; "
                             f"give --sizes ...,{n_classes}")
        if class_names:
            print(f"classes of {column}: {', '.join(f'{k} = {c}' for k, c in enumerate(class_names))}")
    if args.validation_data is not None:
        monitor["validation_data"] = _validation_data(args, loss, classes)
    hidden = parse(_hidden, args.hidden, "--hidden") if args.hidden else None
    checkpoints = parse(_ints, args.checkpoints, "--checkpoints") if args.checkpoints else ()
    lr = parse(_floats, args.lr, "--lr")
    seeds = parse(_ints, args.seeds, "--seeds")
    batch_size = parse(_ints, args.batch_size, "--batch-size")
    shuffle = args.shuffle
    if shuffle is None:  # classification data sets are shuffled unless --no-shuffle says otherwise
        shuffle = args.data in DATA_SETS and _set_shape(args)[1] is not None
        if shuffle and np.all(np.diff(np.ravel(y)) >= 0):
            print(f"{args.data} lists its samples class by class: shuffled every epoch (--no-shuffle to keep the order)")
        elif shuffle:
            print(f"{args.data} is a classification set: shuffled every epoch (--no-shuffle to keep the order)")
    with _dask_client(args) as client:
        try:
            result = sweep(
                sizes, X, y, lr=lr, seeds=seeds, hidden=hidden,
                batch_size=batch_size, epochs=args.epochs, activation=activation, loss=loss,
                init=args.init, shuffle=shuffle, checkpoints=checkpoints, allow_large=args.allow_large,
                client=client, store=args.store, **monitor,
            )
        except (ValueError, TypeError) as exc:
            raise SystemExit(f"fastnn sweep: {exc}") from None
        except KeyboardInterrupt:
            if not args.store:
                raise
            print(f"\nfastnn sweep: interrupted; the finished blocks are saved in {args.store}: run the same "
                  "command again to train the rest", file=sys.stderr)
            raise SystemExit(130) from None
    if args.store:
        print(f"store: {args.store} holds every block of this sweep")
    n_val = 0
    if args.validation is not None:
        n_val = int(round(args.validation * X.shape[0]))
    elif args.validation_data is not None:
        n_val = monitor["validation_data"][0].shape[0]
    n_train = X.shape[0] - (n_val if args.validation is not None else 0)
    steps = int((result._last_epochs() + 1).sum()) * n_train
    held = f" (+{n_val} held out)" if n_val else ""
    print(f"{len(result.configs)} configurations x {args.epochs} epochs on {n_train} samples{held}: "
          f"{result.seconds:.3f} s ({result.seconds / max(steps, 1) * 1e9:.2f} ns per configuration-step; "
          f"compiling or loading the kernels before: {result.compile_seconds:.2f} s), "
          f"{int(result.diverged.sum())} diverged, {result.n_stuck} stuck")
    if result.n_stuck:
        print(f"stuck: {result.n_stuck} configurations never changed a parameter (a zero gradient on every "
              "sample from the start, such as a dead ReLU output); they are marked in the table and the CSV")
    if result.best_epoch is None:
        print(f"{'rank':>4} {'config':>6} {'lr':>10} {'seed':>5} {'hidden':>10} {'batch':>6} {'final loss':>14}")
        for rank, row in enumerate(result.best(args.top), 1):
            print(f"{rank:>4} {row['index']:>6} {row['lr']:>10.4g} {row['seed']:>5} {row['hidden']:>10} "
                  f"{row['batch_size']:>6} {row['loss']:>14.6g}" + ("  stuck" if row["stuck"] else ""))
    else:
        # as fastnn.validation.holdout draws a validation_split
        stratified = loss == CCE or (loss == "binary_cross_entropy" and bool(np.all((y == 0.0) | (y == 1.0))))
        _print_monitored(result, args, n_val, stratified)
    if args.csv:
        result.to_csv(args.csv)
        print(f"wrote {args.csv}")
    if args.plot:
        result.plot(args.plot)
        print(f"wrote {args.plot}")
    return 0


def _monitor_options(args):
    """fastnn.sweep's held-out data and stopping arguments from --validation, --patience,
    --min-delta, --halving and --first-rung, checked before any data is read
    (--validation-data is read with the data)."""
    from .halving import Halving

    options = {}
    if args.validation is not None:
        if not (0.0 < args.validation < 1.0):
            raise SystemExit(f"fastnn sweep: --validation is the fraction of the samples held out: it must lie "
                             f"strictly between 0 and 1, got {args.validation:g}")
        options["validation_split"] = args.validation
    if args.patience is not None:
        if args.patience < 1:
            raise SystemExit(f"fastnn sweep: --patience must be at least 1 epoch, got {args.patience}")
        options["patience"] = args.patience
    if args.min_delta is not None:
        if not (np.isfinite(args.min_delta) and args.min_delta >= 0.0):
            raise SystemExit(f"fastnn sweep: --min-delta must be finite and >= 0, got {args.min_delta:g}")
        options["min_delta"] = args.min_delta
    if args.first_rung is not None and args.halving is None:
        raise SystemExit("fastnn sweep: --first-rung goes with --halving ETA (the rungs of successive halving)")
    if args.halving is not None:
        if args.halving < 2:
            raise SystemExit(f"fastnn sweep: --halving ETA keeps 1/ETA of the configurations at each rung: it "
                             f"must be at least 2, got {args.halving}")
        first_rung = 1 if args.first_rung is None else args.first_rung
        if not 1 <= first_rung <= args.epochs:
            raise SystemExit(f"fastnn sweep: --first-rung must lie in 1..--epochs ({args.epochs}), got {first_rung}")
        options["halving"] = Halving(eta=args.halving, first_rung=first_rung)
    return options


def _print_monitored(result, args, n_val, stratified):
    """The held-out data and stopping summary and the table of the best (by validation
    loss when there is validation data, else by the training loss) at their best epoch."""
    from .sweep_result import _epochs, _stop_note

    validation = result.val_losses is not None
    if args.validation is not None:
        print(f"validation: {n_val} samples held out (--validation {args.validation:g}; drawn with seed 0"
              + (", stratified by class)" if stratified else ")"))
    elif validation:
        print(f"validation: {n_val} samples from {args.validation_data}")
    if result.patience is not None:
        delta = f" by more than {result.min_delta:g}" if result.min_delta else ""
        print(f"patience {result.patience}: {result.n_stopped} configurations stopped early (their watched loss had "
              f"not improved{delta} for {_epochs(result.patience)})")
    if result.halving is not None:
        h = result.halving
        rungs = ", ".join(map(str, h.rungs(result.losses.shape[1])))
        print(f"halving (eta {h.eta}, first rung {h.first_rung}): after {rungs} epochs 1/{h.eta} of the "
              f"configurations went on; {result.n_pruned} pruned")
    watched = "validation loss" if validation else "training loss"
    print(f"best by {watched} at each configuration's best epoch (0-based; loss: the training loss of that epoch):")
    accuracy = result.val_accuracy is not None
    print(f"{'rank':>4} {'config':>6} {'lr':>10} {'seed':>5} {'hidden':>10} {'batch':>6} {'loss':>14}"
          + (f" {'val_loss':>14}" if validation else "") + (f" {'val_acc':>8}" if accuracy else "")
          + f" {'best_epoch':>10}")
    for rank, row in enumerate(result.best(args.top), 1):
        line = (f"{rank:>4} {row['index']:>6} {row['lr']:>10.4g} {row['seed']:>5} {row['hidden']:>10} "
                f"{row['batch_size']:>6} {row['loss']:>14.6g}")
        if validation:
            line += f" {row['val_loss']:>14.6g}"
        if accuracy:
            line += f" {row['val_accuracy']:>8.4g}"
        line += f" {row['best_epoch']:>10}"
        notes = (["stuck"] if row["stuck"] else []) + ([_stop_note(row).strip()] if _stop_note(row) else [])
        print(line + "".join(f"  {note}" for note in notes))


def bench_command(args):
    """Time fastnn's backends (and JAX, PyTorch) on a network; exit 1 unless same numbers."""
    from . import benchmark

    try:
        sizes = [int(v) for v in args.sizes.split(",") if v.strip()]
    except ValueError:
        raise SystemExit(f"fastnn bench: --sizes must be widths like 2,16,1, got {args.sizes!r}") from None
    activation = args.activation if "," not in args.activation else args.activation.split(",")
    try:
        case = benchmark.make_case(sizes, activation, args.loss, lr=args.lr, batch_size=args.batch_size,
                                   samples=args.samples, seed=args.seed, optimizer=args.optimizer)
        benchmark.check_settings(args.epochs, args.repeats, args.seconds)
    except (ValueError, TypeError) as exc:
        raise SystemExit(f"fastnn bench: {exc}") from None
    result = benchmark.run(case, epochs=args.epochs, compare=not args.no_compare, repeats=args.repeats,
                           seconds=args.seconds, log=lambda line: print(line, file=sys.stderr, flush=True))
    print(benchmark.format_result(result))
    return 0 if result.same_numbers else 1


def build_parser():
    parser = argparse.ArgumentParser(prog="fastnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="the main job: seed 000's experiments as one sweep, checked by the reference")
    p.add_argument("--epochs", type=int, default=SEED000_EPOCHS)
    p.add_argument("--n-lr", type=int, default=64, help="learning rates in the grid (default 64)")
    p.add_argument("--n-seeds", type=int, default=16, help="init seeds in the grid (default 16)")
    p.add_argument("--check", type=int, default=3, help="best configurations re-trained by the reference")
    p.add_argument("--out", default="out", help="folder for sweep.png and sweep.csv (default out/)")
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--validation-samples", type=int, default=50, metavar="N",
                   help="held-out samples: the data generator's next N draws (default 50)")
    p.set_defaults(func=demo)
    p = sub.add_parser("sweep", help="train a grid of lr x seeds x hidden x batch size; print the best")
    p.add_argument("--sizes", help="layer widths, e.g. 2,16,1 (default: from the data set: 2,16,C for "
                                   "spiral and vertical, C = --classes; D,16,C for iris, wine, breast_cancer "
                                   "and digits (D inputs, C classes: 4,16,3 for iris); 10,16,1 for diabetes; "
                                   "else 2,2,1)")
    p.add_argument("--activation", help="one name, or one per layer: relu,relu,linear (default: from the data "
                                        "set: relu on hidden layers and a softmax output for the classification "
                                        "sets; else relu)")
    p.add_argument("--loss", help="default: from the data set: categorical_cross_entropy for the classification "
                                  "sets (spiral, vertical, iris, wine, breast_cancer, digits), else squared_error")
    p.add_argument("--init", default="he")
    p.add_argument("--data", default="quadratic",
                   help="quadratic, gender, xor, spiral, vertical (classification sets: y is class labels); "
                        "scikit-learn's bundled iris, wine, breast_cancer, digits (classification) and diabetes "
                        "(regression), inputs standardised (needs scikit-learn); or a CSV file with a header row")
    p.add_argument("--inputs", help="CSV input columns (default: all but the targets)")
    p.add_argument("--targets", help="CSV target columns (default: the last column); with --loss "
                                     "categorical_cross_entropy one column of class labels: integers 0..C-1, "
                                     "or names (numbered in sorted order)")
    p.add_argument("--samples", type=int, help="samples (per class) for generated data sets")
    p.add_argument("--classes", type=int, default=3, help="classes of spiral and vertical (default 3; the "
                                                                 "scikit-learn sets have their own)")
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--lr", default="1e-4:1e-1:16", help="list a,b,c or log range start:stop:count")
    p.add_argument("--seeds", default="0:4", help="list a,b,c or range start:stop")
    p.add_argument("--hidden", help="hidden widths: 8,16 or tuples 4x4 (default: from --sizes)")
    p.add_argument("--batch-size", default="1", help="list a,b,c or range start:stop")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=None,
                   help="visit the samples in a new order every epoch (default: on for spiral and vertical, "
                        "whose samples come class by class; off otherwise)")
    p.add_argument("--checkpoints", help="epochs whose parameters are kept, e.g. 10,100")
    held_out = p.add_mutually_exclusive_group()
    held_out.add_argument("--validation", type=float, metavar="F",
                          help="hold out this fraction of the samples (drawn with seed 0; stratified by class for "
                               "the classification losses) and record every configuration's validation loss (and "
                               "accuracy) after each epoch; the table ranks by validation loss at its best epoch")
    held_out.add_argument("--validation-data", metavar="FILE",
                          help="validation samples from a CSV file with the training data's columns (read as a "
                               "--data file is, with the same --inputs and --targets)")
    p.add_argument("--patience", type=int, metavar="N",
                   help="stop a configuration once its validation loss (else its training loss) has not improved "
                        "for N epochs; it keeps the parameters of its best epoch")
    p.add_argument("--min-delta", type=float, metavar="X",
                   help="smaller improvements than this do not count for --patience and the best epoch (default 0)")
    p.add_argument("--halving", type=int, metavar="ETA",
                   help="successive halving: at each rung keep the best 1/ETA of the configurations still "
                        "training (by validation loss, else training loss), stop the others")
    p.add_argument("--first-rung", type=int, metavar="R",
                   help="the first rung of --halving after R epochs, then R*ETA, R*ETA^2, ... (default 1)")
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--csv", help="write every configuration and its loss curve here")
    p.add_argument("--plot", help="write the loss curves (PNG) here")
    p.add_argument("--allow-large", action="store_true")
    p.add_argument("--store", metavar="FOLDER", help="save every finished block here; run the same command again "
                   "after an interruption to train only the rest (same result)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="train on this Dask cluster (e.g. tcp://host:8786; "
                       "needs fastnn[dask])")
    where.add_argument("--workers", type=int, metavar="N", help="train on a Dask LocalCluster of N worker "
                       "processes started for this run (needs fastnn[dask])")
    p.set_defaults(func=sweep_command)
    p = sub.add_parser("seeds", help="the seed documents' numbers recomputed: kernel, reference, verdict")
    p.add_argument("seed", nargs="*", help="seed numbers (000 .. 004); default: all")
    p.add_argument("--plot", metavar="DIR", help="also write the seeds' PNG plots into DIR")
    p.set_defaults(func=seeds)
    p = sub.add_parser("bench", help="time fastnn on your network against its reference, JAX and PyTorch, "
                                     "and its first fit in a new process against a warm one")
    p.add_argument("--sizes", default="2,2,1", help="layer widths, e.g. 2,16,1 (default 2,2,1)")
    p.add_argument("--activation", default="relu", help="one name, or one per layer: relu,softmax")
    p.add_argument("--loss", default="squared_error")
    p.add_argument("--batch-size", type=int, default=1, help="1: per-sample SGD (default)")
    p.add_argument("--optimizer", default="sgd", help="sgd (default), adagrad, rmsprop or adam (default settings; "
                                                      "JAX compares with optax's adam, PyTorch only plain SGD)")
    p.add_argument("--samples", type=int, default=100, help="training samples (default 100)")
    p.add_argument("--epochs", type=int,
                   help="epochs per timed run of the compiled implementations, at most for the others "
                        "(default: about --seconds per run); also the first fit's (default 20)")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate (default 0.001)")
    p.add_argument("--seed", type=int, default=0,
                   help="seeds the data and the He initialisation (the next init seed if it starts with dead ReLUs)")
    p.add_argument("--no-compare", action="store_true", help="skip JAX and PyTorch")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per implementation; the median counts")
    p.add_argument("--seconds", type=float, default=0.1, help="target length of a timed run (default 0.1)")
    p.set_defaults(func=bench_command)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
