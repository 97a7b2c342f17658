"""`tb-netviz`: look inside a saved model without training, and serve the logs.

    tb-netviz log model.keras --probe cat.png dog.jpg --logdir logs/mymodel --ascent --deconv --sanity
    tb-netviz serve logs

`log` writes one run (`<logdir>/netviz`, as the callback does) with the model
map, the probe and every requested kind at one step; `serve` starts
TensorBoard on a folder of runs. Exit codes: 0 ok, 1 failure (a bad path, a
file that is not a model, a configuration error), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tb_netviz import metadata

EXAMPLE = """examples:
  tb-netviz log model.keras --probe images/ --logdir logs/mymodel --ascent --deconv --sanity
  tb-netviz log model.keras --probe probe.npy --logdir logs/mymodel --layers conv1 conv2
  tb-netviz log model.keras --probe probe.npy --exemplars val.npy --logdir logs/mymodel
  tb-netviz serve logs            (then open http://127.0.0.1:6006/#netviz)
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tb-netviz",
        description="See inside a Keras model in TensorBoard's NetViz tab.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    log = commands.add_parser(
        "log",
        help="write NetViz pictures of a saved model (no training)",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    log.add_argument(
        "model", help="a saved model: .keras (or .h5 where Keras loads it)"
    )
    log.add_argument(
        "--probe",
        nargs="+",
        required=True,
        metavar="FILE_OR_DIR",
        help="PNG/JPEG images or folders of them (resized to the model's input), "
        "or one .npy array (N, *input_shape)",
    )
    log.add_argument(
        "--logdir", required=True, help="the run's folder; writes <logdir>/netviz"
    )
    log.add_argument(
        "--layers", nargs="+", help="layer paths (default: chosen and printed)"
    )
    for group, text in metadata.DESCRIPTIONS.items():
        if group == "exemplars":  # takes the held-out examples
            log.add_argument(
                "--exemplars",
                nargs="+",
                metavar="FILE_OR_DIR",
                help="held-out images or folders of them, or one .npy array: "
                "each channel's top 9 real examples and every channel's health",
            )
        else:
            log.add_argument(f"--{group}", action="store_true", help=f"{text} too")
    log.add_argument(
        "--step", type=int, default=0, help="the step to record (default 0)"
    )
    log.add_argument(
        "--input-range",
        nargs=2,
        type=float,
        default=None,
        metavar=("LO", "HI"),
        help="the model's input range; images (0..255) are mapped onto it "
        "(default 0 1); for .npy probes, default inferred from the values",
    )
    serve = commands.add_parser(
        "serve", help="start TensorBoard on a folder of runs (as tensorboard --logdir)"
    )
    serve.add_argument("logdir")
    serve.add_argument("--port", type=int, default=6006)
    serve.add_argument("--host", default="127.0.0.1")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code (0 ok, 1 failure, 2 usage)."""
    args = _parser().parse_args(argv)  # exits with 2 on a usage error
    if args.command == "serve":
        return _serve(args)
    try:
        from tb_netviz import cli_log  # TensorFlow loads only for `log`

        cli_log.run(args)
    except (ValueError, OSError) as e:
        print(f"tb-netviz: error: {e}", file=sys.stderr)
        return 1
    return 0


def _serve(args) -> int:
    from tensorboard import default, program

    board = program.TensorBoard(plugins=default.get_plugins())  # entry points included
    board.configure(
        argv=[
            None,
            "--logdir",
            args.logdir,
            "--port",
            str(args.port),
            "--host",
            args.host,
        ]
    )
    print(
        f"tb-netviz: serving {args.logdir}; open http://{args.host}:{args.port}/#{metadata.PLUGIN_NAME}"
    )
    return board.main()


if __name__ == "__main__":
    sys.exit(main())
