"""Cascading weight randomization at one layer vs (blocks + 1) deconvolution calls.

VGG16 (`weights=None`, `--size` px a side), layer `--layer` (default
`block3_conv1`: 5 convolutions, 5 blocks), 8 probe images, 1 channel, the
three methods (deconvnet, guided backprop, gradient) in one call. Reported,
best of `--repeats` after a warm-up:

- deconv: one warm `Deconvolver` call on the model, same methods, channel
  and images: the unit of cost;
- copy: `copy_model` (clone + set weights), once per model;
- check, first: `randomization_check(...)` as a user calls it once (copy,
  trace, B + 1 deconvolutions, similarities);
- check, reused: a kept `RandomizationCheck` called again (what the
  callback pays at later checks: the weights copied again, no trace);
- bound: (B + 1) x deconv + copy, the target of issue 12.

    python benchmarks/bench_sanity.py [--size 224] [--layer block3_conv1]
        [--images 8] [--repeats 2] [--out benchmarks/results/sanity.json] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common
import numpy as np


def best(fn, repeats: int) -> tuple[float, float]:
    """(first wall, best wall of `repeats` more)."""
    first = common.timed(fn)[0]
    return first, min(common.timed(fn)[0] for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--layer", default="block3_conv1")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=None, help="also write the figures here")
    smoke = {"size": 32, "images": 1, "repeats": 1}
    args = common.parse_args(parser, smoke)

    import keras

    from tb_netviz.methods import Deconvolver, randomization_check
    from tb_netviz.methods.sanity import check as sanity

    keras.utils.set_random_seed(0)
    model = keras.applications.VGG16(
        weights=None, input_shape=(args.size, args.size, 3), include_top=False
    )
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (args.images, args.size, args.size, 3)).astype("float32")
    methods = sanity.METHODS
    check = sanity.RandomizationCheck(model, args.layer, methods)
    channels = check.strongest_channels(x, 1)
    deconv = Deconvolver(model, args.layer, methods=methods)
    deconv_first, deconv_best = best(lambda: deconv(x, channels), args.repeats)
    copy_first, copy_best = best(lambda: sanity.copy_model(model), args.repeats)
    check_first = common.timed(
        lambda: randomization_check(model, args.layer, x, methods, channels=channels)
    )[0]
    _, reused = best(lambda: check(x, channels), args.repeats)
    blocks = len(check.blocks)
    bound = (blocks + 1) * deconv_best + copy_best
    result = {
        "benchmark": "sanity",
        "smoke": args.smoke,
        "model": f"VGG16 weights=None {args.size}x{args.size}",
        "layer": args.layer,
        "images": args.images,
        "channels": 1,
        "methods": list(methods),
        "blocks": blocks,
        "deconv_first_s": round(deconv_first, 3),
        "deconv_s": round(deconv_best, 3),
        "copy_s": round(copy_best, 3),
        "check_first_call_s": round(check_first, 3),
        "check_reused_s": round(reused, 3),
        "bound_s": round(bound, 3),
        "reused_over_bound": round(reused / bound, 3),
        "first_call_over_bound_plus_trace": round(
            check_first / (bound + deconv_first - deconv_best), 3
        ),
        "environment": common.environment(),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "environment"}, indent=1))
    if args.out:
        common.write_json(args.out, result)


if __name__ == "__main__":
    main()
