"""Command line: ``python -m kerasbig demo`` and ``python -m kerasbig serve PATH``."""

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
    serve = sub.add_parser(
        "serve", help="serve an estimator saved with est.save over HTTP"
    )
    serve.add_argument("path", help="the file est.save wrote")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--unsafe",
        action="store_true",
        help="load with safe_mode=False (only for a file you trust)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    if args.command == "serve":
        from kerasbig import serving

        safe_mode = not args.unsafe
        serving.run(args.path, host=args.host, port=args.port, safe_mode=safe_mode)
        return 0
    from kerasbig.demo import run_demo

    run_demo(n_splits=args.folds, epochs=args.epochs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
