"""tf-keras-vis attributions on the benchmark's model; run by bench_attribution.py.

Runs inside the peer venv (`peers.py`: tf-keras-vis at its pinned version), in
its own process, kept alive while the benchmark runs, so its imports and model
clones cannot touch the tb_netviz measurement:

    PEER_VENV/bin/python benchmarks/attribution_peer_tf_keras_vis.py DATA.npz MODEL.keras

DATA.npz holds `x` (N, H, W, C), `targets` (N, 1), the CAM `layer`, `samples`,
`noise` (SmoothGrad's share of the input range), `methods`; MODEL.keras the
model. Also the protocol both peers speak (`serve`) and the benchmark's end
of it (`pythons`, `Peer`): the peer answers `@@{"methods": [...]}`, then for each method
name read from stdin one line `@@{"wall": s, "cpu": s}` or `@@{"error": "..."}`;
whatever else it prints on stdout is passed over.

Each call is what a user of tf-keras-vis writes for the method, on a model
whose softmax is made linear (`ReplaceToLinear`: the class score is the logit,
as in tb_netviz): `Gradcam`, `Scorecam` (every channel: `max_N=None`),
`Saliency`, `Saliency(smooth_samples=n, smooth_noise=noise)`, defaults
otherwise (maps normalized, as the library does by default).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

PREFIX = "@@"
HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = {
    "tf-keras-vis": os.path.join(HERE, "attribution_peer_tf_keras_vis.py"),
    "tf-explain": os.path.join(HERE, "attribution_peer_tf_explain.py"),
}


def pythons(venv: str | None, skip: bool) -> tuple[dict, dict]:
    """The benchmark's: the peer venv's python per peer (`peers.python`), and why
    a peer could not be installed. tf-explain 0.3.1 imports cv2 without requiring
    it: OpenCV (headless) is installed first."""
    import peers

    found, failed = {}, {}
    for p in [] if skip else SCRIPTS:
        try:
            if p == "tf-explain":
                exe = peers.python(venv)
                if subprocess.run([exe, "-c", "import cv2"], check=False).returncode:
                    pip = [exe, "-m", "pip", "install", "-q", "opencv-python-headless"]
                    subprocess.run(pip, check=True)
            found[p] = peers.python(venv, p)
        except subprocess.CalledProcessError as e:
            failed[p] = str(e)
    return found, failed


def serve(make) -> None:
    """A peer's loop, `argv` DATA.npz MODEL.keras; `make(model, data)` -> `{method: fn}`."""
    import keras

    data = dict(np.load(sys.argv[1]))
    model = keras.models.load_model(sys.argv[2], compile=False)
    fns = {m: fn for m, fn in make(model, data).items() if m in data["methods"]}
    print(PREFIX + json.dumps({"methods": list(fns)}), flush=True)
    for line in sys.stdin:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            fns[line.strip()]()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            reply = {"wall": wall, "cpu": cpu}
        except Exception as e:  # the failure is the result
            reply = {"error": f"{type(e).__name__}: {e}"[:500]}
        print(PREFIX + json.dumps(reply), flush=True)


class Peer:
    """The benchmark's end: a peer process kept alive; `ask(method)` times one call."""

    def __init__(self, python: str, script: str, data: str, model: str):
        pipe = subprocess.PIPE
        args = [python, script, data, model]
        self.proc = subprocess.Popen(args, stdin=pipe, stdout=pipe, text=True)
        reply = self._reply()
        self.methods, self.error = reply.get("methods", []), reply.get("error")

    def _reply(self) -> dict:
        for line in self.proc.stdout:
            if line.startswith(PREFIX):
                return json.loads(line[len(PREFIX) :])
        return {"error": f"the peer exited with status {self.proc.wait()}"}

    def ask(self, method: str) -> dict:
        if self.proc.poll() is not None:
            return {"error": f"the peer exited with status {self.proc.returncode}"}
        self.proc.stdin.write(method + "\n")
        self.proc.stdin.flush()
        return self._reply()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=120)


def methods(model, data: dict) -> dict:
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.scorecam import Scorecam
    from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
    from tf_keras_vis.utils.scores import CategoricalScore

    x, layer = data["x"], str(data["layer"])
    score = CategoricalScore([int(t) for t in data["targets"][:, 0]])
    gradcam = Gradcam(model, model_modifier=ReplaceToLinear(), clone=True)
    scorecam = Scorecam(model, model_modifier=ReplaceToLinear(), clone=True)
    saliency = Saliency(model, model_modifier=ReplaceToLinear(), clone=True)
    samples, noise = int(data["samples"]), float(data["noise"])
    return {
        "gradcam": lambda: gradcam(score, x, penultimate_layer=layer),
        "saliency": lambda: saliency(score, x),
        "smoothgrad": lambda: saliency(
            score, x, smooth_samples=samples, smooth_noise=noise
        ),
        "scorecam": lambda: scorecam(score, x, penultimate_layer=layer),
    }


if __name__ == "__main__":
    serve(methods)
