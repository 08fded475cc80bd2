"""The ``fastnn`` command (also ``python -m fastnn``)."""
from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np

from . import datasets
from .seeds import SEED000_EPOCHS


def demo(args):
    """The main job: seed 000's experiments as one sweep (fastnn.demo)."""
    from . import demo as main_job

    return main_job.run(args.n_lr, args.n_seeds, args.epochs, args.out, args.check, args.data_seed)


def seeds(args):
    """The seed walkthroughs (fastnn.walkthrough): exit status 0 when kernel = reference."""
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


def _data(args):
    """(X, y) from a data set name or a CSV file."""
    name = args.data
    if args.samples is not None and args.samples < 1:
        raise SystemExit(f"fastnn: --samples must be at least 1, got {args.samples}")
    if name == "quadratic":
        return datasets.quadratic(args.samples or 100, seed=args.data_seed)
    if name == "gender":
        return datasets.gender()
    if name == "xor":
        return datasets.xor()
    if name in ("spiral", "vertical"):
        return getattr(datasets, name)(args.samples or 100, args.classes, seed=args.data_seed)
    if not os.path.isfile(name):
        raise SystemExit(f"fastnn: --data must be quadratic, gender, xor, spiral, vertical or a CSV file; got {name!r}")
    # csv, not np.genfromtxt(names=True): that rewrites names ("sepal.length" -> "sepallength")
    try:
        with open(name, newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SystemExit(f"fastnn: cannot read --data {name!r} as a CSV text file: {exc}") from None
    if len(rows) < 2:
        raise SystemExit(f"fastnn: {name} needs a header row of column names and at least one row of numbers")
    columns = [c.strip() for c in rows[0]]
    try:
        table = np.array([[float(v) for v in row] for row in rows[1:]])
    except ValueError as exc:
        raise SystemExit(f"fastnn: {name} must hold numbers below its header: {exc}") from None
    if table.ndim != 2 or table.shape[1] != len(columns):
        raise SystemExit(f"fastnn: every row of {name} must have {len(columns)} values, one per column")
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
    X = table[:, [columns.index(c) for c in inputs]]
    y = table[:, [columns.index(c) for c in targets]]
    return X, y


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
    for option, path in (("--csv", args.csv), ("--plot", args.plot)):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise SystemExit(f"fastnn sweep: {option} {path!r}: its folder does not exist")
        if path and os.path.isdir(path):
            raise SystemExit(f"fastnn sweep: {option} {path!r} is a folder; give a file name")
    if args.plot and os.path.splitext(args.plot)[1].lower() not in PLOT_FORMATS:
        raise SystemExit(f"fastnn sweep: --plot {args.plot!r} must end in one of {', '.join(PLOT_FORMATS)}")
    X, y = _data(args)
    sizes = parse(lambda text: [int(v) for v in text.split(",")], args.sizes, "--sizes")
    activation = args.activation if "," not in args.activation else args.activation.split(",")
    hidden = parse(_hidden, args.hidden, "--hidden") if args.hidden else None
    checkpoints = parse(_ints, args.checkpoints, "--checkpoints") if args.checkpoints else ()
    lr = parse(_floats, args.lr, "--lr")
    seeds = parse(_ints, args.seeds, "--seeds")
    batch_size = parse(_ints, args.batch_size, "--batch-size")
    try:
        result = sweep(
            sizes, X, y, lr=lr, seeds=seeds, hidden=hidden,
            batch_size=batch_size, epochs=args.epochs, activation=activation, loss=args.loss,
            init=args.init, shuffle=args.shuffle, checkpoints=checkpoints, allow_large=args.allow_large,
        )
    except (ValueError, TypeError) as exc:
        raise SystemExit(f"fastnn sweep: {exc}") from None
    steps = len(result.configs) * args.epochs * X.shape[0]
    print(f"{len(result.configs)} configurations x {args.epochs} epochs on {X.shape[0]} samples: "
          f"{result.seconds:.3f} s ({result.seconds / steps * 1e9:.2f} ns per configuration-step; "
          f"compiling or loading the kernels before: {result.compile_seconds:.2f} s), "
          f"{int(result.diverged.sum())} diverged")
    print(f"{'rank':>4} {'config':>6} {'lr':>10} {'seed':>5} {'hidden':>10} {'batch':>6} {'final loss':>14}")
    for rank, row in enumerate(result.best(args.top), 1):
        print(f"{rank:>4} {row['index']:>6} {row['lr']:>10.4g} {row['seed']:>5} {row['hidden']:>10} "
              f"{row['batch_size']:>6} {row['loss']:>14.6g}")
    if args.csv:
        result.to_csv(args.csv)
        print(f"wrote {args.csv}")
    if args.plot:
        result.plot(args.plot)
        print(f"wrote {args.plot}")
    return 0


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
                                   samples=args.samples, seed=args.seed)
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
    p.set_defaults(func=demo)
    p = sub.add_parser("sweep", help="train a grid of lr x seeds x hidden x batch size; print the best")
    p.add_argument("--sizes", default="2,2,1", help="layer widths, e.g. 2,16,1 (default 2,2,1)")
    p.add_argument("--activation", default="relu", help="one name, or one per layer: relu,relu,linear")
    p.add_argument("--loss", default="squared_error")
    p.add_argument("--init", default="he")
    p.add_argument("--data", default="quadratic",
                   help="quadratic, gender, xor, spiral, vertical, or a CSV file with a header row")
    p.add_argument("--inputs", help="CSV input columns (default: all but the targets)")
    p.add_argument("--targets", help="CSV target columns (default: the last column)")
    p.add_argument("--samples", type=int, help="samples (per class) for generated data sets")
    p.add_argument("--classes", type=int, default=3)
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--lr", default="1e-4:1e-1:16", help="list a,b,c or log range start:stop:count")
    p.add_argument("--seeds", default="0:4", help="list a,b,c or range start:stop")
    p.add_argument("--hidden", help="hidden widths: 8,16 or tuples 4x4 (default: from --sizes)")
    p.add_argument("--batch-size", default="1", help="list a,b,c or range start:stop")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--shuffle", action="store_true")
    p.add_argument("--checkpoints", help="epochs whose parameters are kept, e.g. 10,100")
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--csv", help="write every configuration and its loss curve here")
    p.add_argument("--plot", help="write the loss curves (PNG) here")
    p.add_argument("--allow-large", action="store_true")
    p.set_defaults(func=sweep_command)
    p = sub.add_parser("seeds", help="the seed documents' numbers recomputed: kernel, reference, verdict")
    p.add_argument("seed", nargs="*", help="seed numbers (000 .. 004); default: all")
    p.add_argument("--plot", metavar="DIR", help="also write the seeds' PNG plots into DIR")
    p.set_defaults(func=seeds)
    p = sub.add_parser("bench", help="time fastnn on your network against its reference, JAX and PyTorch")
    p.add_argument("--sizes", default="2,2,1", help="layer widths, e.g. 2,16,1 (default 2,2,1)")
    p.add_argument("--activation", default="relu", help="one name, or one per layer: relu,softmax")
    p.add_argument("--loss", default="squared_error")
    p.add_argument("--batch-size", type=int, default=1, help="1: per-sample SGD (default)")
    p.add_argument("--samples", type=int, default=100, help="training samples (default 100)")
    p.add_argument("--epochs", type=int,
                   help="epochs per timed run of the compiled implementations, at most for the others "
                        "(default: about --seconds per run)")
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
