"""Attribution maps: tb_netviz against the floor and the peers, in the same run.

Models (`--models`): `vgg16`, the headline (`keras.applications.VGG16(weights=None)`,
`--size` 224 px a side), and `small`, the demo's CNN (32 x 32,
`tb_netviz.demo.make_model`); `--images` N random inputs x 1 target (the top
class of the first input, the same for all: tf-explain takes one class).
Methods: Grad-CAM, Saliency, SmoothGrad (`--samples` n), Integrated Gradients
(`--steps`), and on the small CNN Score-CAM; CAMs at tb_netviz's default
layer (VGG16 `block5_pool`, the CNN `pool2`, K = 512 and 32 channels).

- tb_netviz: one `Attributor` call for all the methods, at its defaults
  (rows a pass sized from the input: 341 rows of 32x32x3, 32 of 224x224x3;
  no padded pass); each method's `seconds`, and the whole call.
- the floor, the least work each method must do, in plain TF: a clone of the
  model whose output's softmax is made linear (the class score is the logit,
  as in tb_netviz), one `tf.function` per method, a `GradientTape` of the
  score. Grad-CAM and Saliency: 1 forward + 1 backward of the N x T rows (to
  the CAM layer or to the input), then the map's arithmetic; SmoothGrad(n):
  n x that, the n x N x T noisy rows (tb_netviz's noise) forward+backward;
  IG(steps): steps x that, the paper's Riemann sum over `steps` path points
  (tb_netviz's trapezoid takes the same `steps` points, its ends weighted
  half); Score-CAM: 1 forward of the N inputs, then K forward passes of the
  N masked inputs. The many-row floors run all rows in one pass on the CNN
  and in passes of `--floor-rows` (32) on VGG16 (8 x 32 rows of VGG16 at
  once would need ~18 GB), with no padding.
  Ratio = ours / floor; goal <= 1.15.
- the peers, tf-keras-vis (Gradcam, Scorecam, Saliency, Saliency with
  `smooth_samples`) and tf-explain (GradCAM, VanillaGradients, SmoothGrad,
  IntegratedGradients), each in its own process in the peer venv (`peers.py`),
  kept alive and asked for one call at a time. Ratio = peer / ours; goal > 1.

Every round runs ours, the floor and each peer in turn (interleaved, so load
changes hit all alike); round 0 is the warm-up (tracing: "first s"), then the
median of `--repeats` rounds.

    python benchmarks/bench_attribution.py [--models vgg16,small] [--images 8]
        [--methods M,...] [--samples 16] [--steps 32] [--repeats 3] [--floor-rows 32]
        [--peer-venv PATH | --no-peers] [--out benchmarks/results/attribution.json]
        [--smoke]
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import attribution_peer_tf_keras_vis as peer_lib
import common
import numpy as np
import peers
from attribution_floors import floors

GOAL_FLOOR = 1.15  # ours / floor at most; peer / ours more than 1
CNN_METHODS = ("gradcam", "saliency", "smoothgrad", "integrated_gradients", "scorecam")


def build(name: str, size: int):
    import keras

    keras.utils.set_random_seed(0)
    if name == "small":
        from tb_netviz import demo

        seq = demo.make_model()  # as a functional model: the peers fail on Sequential
        h = inp = keras.Input(seq.inputs[0].shape[1:])
        for layer in seq.layers:
            h = type(layer).from_config(layer.get_config())(h)
        model = keras.Model(inp, h, name=seq.name)
        model.set_weights(seq.get_weights())
        return model
    return keras.applications.VGG16(weights=None, input_shape=(size, size, 3))


def summary(runs: list) -> dict:
    return {"first": runs[0], "median": common.median(runs[1:]), "runs": runs}


def bench_model(name: str, args, pythons: dict, tmp: str) -> dict:
    import tensorflow as tf

    from tb_netviz.methods.attributions import Attributor, cams

    model = build(name, args.size)
    methods = CNN_METHODS if name == "small" else CNN_METHODS[:4]
    if args.methods:
        methods = tuple(m for m in methods if m in args.methods.split(","))
    shape = tuple(model.inputs[0].shape[1:])
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (args.images, *shape)).astype(np.float32)
    if name == "vgg16":
        x = x * 255 - 120  # about the range of VGG16's preprocessed inputs
    ours = Attributor(model, methods, samples=args.samples, steps=args.steps)
    targets = np.full((len(x), 1), ours.predicted(x[:1])[0], np.int64)
    rows = args.floor_rows if name == "vgg16" else 0
    layer = ours.layer or cams.check_layer(model, None)  # no CAM method chosen
    floor = floors(model, layer, x, targets, args.samples, args.steps, rows)
    live = {}
    if pythons:
        data, saved = (os.path.join(tmp, f"{name}.{e}") for e in ("npz", "keras"))
        np.savez(data, x=x, targets=targets, layer=layer, samples=args.samples,
                 noise=0.15, sigma=0.15 * (x.max() - x.min()), steps=args.steps,
                 rows=rows, methods=np.array(methods))  # fmt: skip
        model.save(saved)
        live = {
            p: peer_lib.Peer(python, peer_lib.SCRIPTS[p], data, saved)
            for p, python in pythons.items()
        }
    runs = {
        who: {m: [] for m in (*methods, "all")} for who in ("tb_netviz", "floor", *live)
    }
    cpu, errors, diff = {"tb_netviz": [], "floor": []}, {}, {}
    errors.update({(p, "start"): peer.error for p, peer in live.items() if peer.error})
    seed = tf.constant(0, tf.int64)
    repeats = args.repeats if name == "vgg16" else args.cnn_repeats
    for r in range(repeats + 1):
        wall, used, res = common.timed(lambda: ours(x, targets))
        runs["tb_netviz"]["all"].append(wall)
        cpu["tb_netviz"].append(used)
        used = 0.0
        for m in methods:
            runs["tb_netviz"][m].append(res.seconds[m])
            wall, c, maps = common.timed(lambda f=floor[m]: f(x, seed).numpy())
            runs["floor"][m].append(wall)
            used += c
            if r == 0:
                ref = res.maps[m]
                diff[m] = float(np.abs(maps - ref).max() / np.abs(ref).max())
        runs["floor"]["all"].append(sum(runs["floor"][m][-1] for m in methods))
        cpu["floor"].append(used)
        for p, peer in live.items():
            for m in methods:
                if m in peer.methods and (p, m) not in errors:
                    reply = peer.ask(m)
                    if "error" in reply:
                        errors[(p, m)] = reply["error"]
                    else:
                        runs[p][m].append(reply["wall"])
        last = {w: round(v["all"][-1], 3) for w, v in runs.items() if v["all"]}
        last.update({f"{p} {m}": round(v[m][-1], 3) for p, v in runs.items()
                     if p in live for m in methods if len(v[m]) > r})  # fmt: skip
        print(f"{name}: round {r} of {repeats}: {last}", flush=True)
    for peer in live.values():
        peer.close()
    times = {
        who: {m: summary(v) for m, v in per.items() if len(v) > 1}
        for who, per in runs.items()
    }
    ratios = {}
    for m, ours_t in times["tb_netviz"].items():
        ratios[m] = {"ours/floor": ours_t["median"] / times["floor"][m]["median"]}
        for p in live:
            if m in times[p]:
                ratios[m][f"{p}/ours"] = times[p][m]["median"] / ours_t["median"]
    return {
        "setting": {
            "input": list(shape),
            "layer": ours.layer,
            "methods": list(methods),
            "target": int(targets[0, 0]),
            "floor_rows": rows or "all",
            "attributor": ours.settings,
        },  # fmt: skip
        "seconds": times,
        "cpu_s": {who: summary(v) for who, v in cpu.items()},
        "ratios": ratios,
        "peer_errors": {f"{p} {m}": e for (p, m), e in errors.items()},
        "floor_vs_ours_relative_max_difference": diff,
    }


def report(name: str, r: dict, peer_names) -> list[str]:
    """Prints the model's table; returns the goals it misses."""
    s, t, missed = r["setting"], r["seconds"], []
    layer = f", CAM layer {s['layer']}" if s["layer"] is not None else ""
    print(f"\n{name} {s['input']}{layer}, target {s['target']}: "
          "median wall s of the rounds after the warm-up (first call)")  # fmt: skip
    rows = []
    for m, ratio in r["ratios"].items():
        cells = [m]
        for who, key in [("tb_netviz", None), ("floor", "ours/floor")] + [
            (p, f"{p}/ours") for p in peer_names
        ]:
            if who not in t or m not in t[who]:
                cells += ["-"] if key is None else ["-", "-"]
                continue
            cells.append(f"{t[who][m]['median']:.3f} ({t[who][m]['first']:.2f})")
            if key is not None:
                cells.append(f"{ratio[key]:.2f}x")
                bad = ratio[key] > GOAL_FLOOR if who == "floor" else ratio[key] <= 1
                if bad and m != "all":
                    missed.append(f"{name} {m} {key} {ratio[key]:.2f}")
        rows.append(cells)
    headers = ["method", "ours", "floor", "ours/floor"]
    print(
        common.table(headers + [h for p in peer_names for h in (p, f"{p}/ours")], rows)
    )
    for what, error in r["peer_errors"].items():
        print(f"  {what} failed: {error}")
    diffs = r["floor_vs_ours_relative_max_difference"].items()
    print(
        "  max |floor - ours| / max |ours|: "
        + ", ".join(f"{m} {d:.1e}" for m, d in diffs)
    )
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="small,vgg16", help="small and/or vgg16")
    parser.add_argument(
        "--methods", default="", help="comma-separated subset (default: all)"
    )
    parser.add_argument("--size", type=int, default=224, help="VGG16 input px a side")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--samples", type=int, default=16, help="SmoothGrad samples")
    parser.add_argument("--steps", type=int, default=32, help="IG steps")
    parser.add_argument(
        "--repeats", type=int, default=3, help="VGG16 rounds after the warm-up"
    )
    parser.add_argument("--cnn-repeats", type=int, default=30, help="small CNN rounds")
    parser.add_argument(
        "--floor-rows", type=int, default=32, help="VGG16 rows a floor pass (0: all)"
    )
    peers.add_flag(parser)
    parser.add_argument(
        "--out", default=os.path.join(common.RESULTS, "attribution.json")
    )
    smoke = {"models": "small", "images": 2, "samples": 4, "steps": 4, "cnn_repeats": 1}
    args = common.parse_args(parser, smoke)
    pythons, install_errors = peer_lib.pythons(args.peer_venv, args.no_peer)
    results, missed = {}, []
    names = args.models.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:  # the results are written after each model
            results[name] = bench_model(name, args, pythons, tmp)
            missed += report(name, results[name], list(pythons))
            write(args, results, missed, install_errors, complete=name == names[-1])
    for p, error in install_errors.items():
        print(f"{p} could not be installed: {error}")
    print(f"goals (ours/floor <= {GOAL_FLOOR}, peer/ours > 1): "
          + ("met" if not missed else "MISSED: " + "; ".join(missed)))  # fmt: skip
    return 0 if not missed or args.smoke else 1


def write(args, results: dict, missed: list, install_errors: dict, complete: bool):
    setting = {k: getattr(args, k) for k in ("images", "samples", "steps", "size")}
    setting.update(
        targets=1, repeats={"vgg16": args.repeats, "small": args.cnn_repeats}
    )
    setting["peers"] = peers.versions(args.peer_venv, args.no_peer)
    setting["peer_install_errors"] = install_errors
    common.write_json(
        args.out,
        {
            "benchmark": "attribution",
            "smoke": args.smoke,
            "complete": complete,
            "setting": setting,
            "models": results,
            "goals": {
                "ours/floor max": GOAL_FLOOR,
                "peer/ours min": 1.0,
                "met": not missed,
                "missed": missed,
            },
            "environment": common.environment(),
        },
    )


if __name__ == "__main__":
    raise SystemExit(main())
