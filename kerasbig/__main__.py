"""Command line: ``kerasbig demo``, ``kerasbig serve PATH``, ``kerasbig --version``.

Installed as the ``kerasbig`` script and runnable as ``python -m kerasbig``; the
usage line names the program the way it was invoked. TensorFlow's start-up lines
are filtered when ``kerasbig`` is imported (:mod:`kerasbig.startup`).
"""

from __future__ import annotations

import argparse
import os
import sys


def program_name(argv0: str | None = None) -> str:
    """``python -m kerasbig`` when run as a module, else the script's name."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    name = os.path.basename(argv0 or "")
    if name in ("", "__main__.py", "-c", "-m"):
        return "python -m kerasbig"
    return name


def make_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``kerasbig`` command."""
    from kerasbig import __version__

    parser = argparse.ArgumentParser(
        prog=program_name() if prog is None else prog,
        description="kerasbig: Keras 3 models as scikit-learn estimators.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"kerasbig {__version__}",
        help="print kerasbig's version and exit",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="cross-validate a CNN in a Pipeline on scikit-learn's digits",
        description=(
            "Cross-validate Pipeline(ImageScaler, CNNClassifier) on scikit-learn's "
            "bundled digits (offline) and print each fold's accuracy and time, "
            "the mean and the wall time (about 25 s on 2 CPU cores)."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument(
        "--folds",
        type=_at_least(2),
        default=5,
        help="number of stratified cross-validation folds",
    )
    demo.add_argument(
        "--epochs",
        type=_at_least(1),
        default=15,
        help="training epochs in each fold",
    )
    serve = sub.add_parser(
        "serve",
        help="serve an estimator saved with est.save over HTTP",
        description=(
            "Load an estimator saved with est.save and answer predictions over "
            "HTTP (needs the 'serve' extra: pip install 'kerasbig[serve]')."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    serve.add_argument("path", help="the file est.save wrote")
    serve.add_argument(
        "--port", type=_at_least(0), default=8000, help="the TCP port to listen on"
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (0.0.0.0: every interface)",
    )
    serve.add_argument(
        "--unsafe",
        action="store_true",
        help="load with safe_mode=False (only for a file you trust)",
    )
    return parser


def main(argv=None, prog: str | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = make_parser(prog).parse_args(argv)
    if args.command == "serve":
        from kerasbig import serving

        safe_mode = not args.unsafe
        serving.run(args.path, host=args.host, port=args.port, safe_mode=safe_mode)
        return 0
    from kerasbig.demo import run_demo

    run_demo(n_splits=args.folds, epochs=args.epochs)
    return 0


def _at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is below {low}")
        return value

    parse.__name__ = "int"
    return parse


if __name__ == "__main__":
    raise SystemExit(main(prog="python -m kerasbig"))
