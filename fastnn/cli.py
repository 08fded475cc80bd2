"""The ``fastnn`` command (also ``python -m fastnn``)."""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from . import datasets
from .seeds import SEED000_EPOCHS, SEED000_LR, seed000_network


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


def _data(args, n_outputs_hint=None):
    """(X, y) from a data set name or a CSV file."""
    name = args.data
    if name == "quadratic":
        return datasets.quadratic(args.samples or 100, seed=args.data_seed)
    if name == "gender":
        return datasets.gender()
    if name == "xor":
        return datasets.xor()
    if name in ("spiral", "vertical"):
        return getattr(datasets, name)(args.samples or 100, args.classes, seed=args.data_seed)
    if not os.path.exists(name):
        raise SystemExit(f"fastnn: --data must be quadratic, gender, xor, spiral, vertical or a CSV file; got {name!r}")
    table = np.genfromtxt(name, delimiter=",", names=True, dtype=float, encoding="utf-8")
    columns = list(table.dtype.names)
    targets = _names(args.targets) or columns[-1:]
    inputs = _names(args.inputs) or [c for c in columns if c not in targets]
    for column in inputs + targets:
        if column not in columns:
            raise SystemExit(f"fastnn: column {column!r} is not in {name} (columns: {', '.join(columns)})")
    X = np.column_stack([table[c] for c in inputs])
    y = np.column_stack([table[c] for c in targets])
    return X, y


def sweep_command(args):
    """Train a grid of configurations; print the best; write --csv and --plot."""
    from .sweep import sweep

    X, y = _data(args)
    sizes = [int(v) for v in args.sizes.split(",")]
    activation = args.activation if "," not in args.activation else args.activation.split(",")
    hidden = _hidden(args.hidden) if args.hidden else None
    checkpoints = _ints(args.checkpoints) if args.checkpoints else ()
    try:
        result = sweep(
            sizes, X, y, lr=_floats(args.lr), seeds=_ints(args.seeds), hidden=hidden,
            batch_size=_ints(args.batch_size), epochs=args.epochs, activation=activation, loss=args.loss,
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
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
