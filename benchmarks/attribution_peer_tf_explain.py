"""tf-explain attributions on the benchmark's model; run by bench_attribution.py.

Runs inside the peer venv (`peers.py`: tf-explain at its pinned version, and
OpenCV, which tf-explain imports), in its own process, kept alive, speaking
the protocol of `attribution_peer_tf_keras_vis.serve`:

    PEER_VENV/bin/python benchmarks/attribution_peer_tf_explain.py DATA.npz MODEL.keras

DATA.npz as there, plus `sigma` (SmoothGrad's noise, in input units: tf-explain
takes a standard deviation), `steps` and `rows` (0, or the most rows one call
may hold). Each call is what a user of tf-explain writes for the method, its
`explain` (which also draws the maps into a grid image): `GradCAM` (plain
gradients: `use_guided_grads=False`), `VanillaGradients`, `SmoothGrad`,
`IntegratedGradients`. tf-explain takes one class for all inputs and runs
all n copies of an input at once: with `rows` > 0, SmoothGrad and IG are
called on as few inputs at a time as keep a call within `rows` rows (8 x 32
rows of VGG16 at once would need ~18 GB).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from attribution_peer_tf_keras_vis import serve


def methods(model, data: dict) -> dict:
    from tf_explain.core.grad_cam import GradCAM
    from tf_explain.core.integrated_gradients import IntegratedGradients
    from tf_explain.core.smoothgrad import SmoothGrad
    from tf_explain.core.vanilla_gradients import VanillaGradients

    x, layer, c = data["x"], str(data["layer"]), int(data["targets"][0, 0])
    samples, steps, rows = int(data["samples"]), int(data["steps"]), int(data["rows"])
    sigma = float(data["sigma"])

    def per_call(fn, copies):
        step = max(1, rows // copies) if rows else len(x)
        return lambda: [fn((x[i : i + step], None)) for i in range(0, len(x), step)]

    gradcam, vanilla = GradCAM(), VanillaGradients()
    smooth, ig = SmoothGrad(), IntegratedGradients()
    return {
        "gradcam": lambda: gradcam.explain(
            (x, None), model, c, layer_name=layer, use_guided_grads=False
        ),
        "saliency": lambda: vanilla.explain((x, None), model, c),
        "smoothgrad": per_call(
            lambda d: smooth.explain(d, model, c, num_samples=samples, noise=sigma),
            samples,
        ),
        "integrated_gradients": per_call(
            lambda d: ig.explain(d, model, c, n_steps=steps), steps
        ),
    }


if __name__ == "__main__":
    serve(methods)
