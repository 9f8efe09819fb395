"""Command line: ``python -m kerasbig demo``."""

from __future__ import annotations

import argparse
import os


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kerasbig")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="cross-validate a Keras network in a Pipeline on load_digits"
    )
    demo.add_argument("--folds", type=int, default=5)
    demo.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    from kerasbig.demo import run_demo

    run_demo(n_splits=args.folds, epochs=args.epochs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
