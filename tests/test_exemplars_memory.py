"""20,000 examples through the callback: memory bounded by k x channels, not N.

Each fit runs in its own process and reports its peak resident memory
(`ru_maxrss`); both processes hold the same 20,000 x 32 x 32 x 3 examples
array (234 MiB), so the difference is what the examples pass itself costs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = r"""
import json, resource, sys
import numpy as np, keras
from tb_netviz import Exemplars, NetVizCallback
from tb_netviz.demo import make_data, make_model

with_examples = sys.argv[2] == "1"
# float32 straight away: a float64 temporary would dominate the peak
examples = np.random.default_rng(0).random((20000, 32, 32, 3), dtype=np.float32)
x, y = make_data(256)
model = make_model()
model.compile(optimizer="adam",
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
cb = NetVizCallback(sys.argv[1], x[:8], layers=["conv1", "conv2", "dense"],
                    exemplars=Exemplars(examples, freq=1) if with_examples else None,
                    ascent=None, deconv=None, sanity=None, overhead_budget=None)
model.fit(x, y, batch_size=32, epochs=2, callbacks=[cb], verbose=0)
assert cb.failures == [], cb.failures
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_mib": peak_kib / 1024, "examples_mib": examples.nbytes / 2**20}))
"""


def _peak(log_dir: str, with_examples: bool) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, log_dir, str(int(with_examples))],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_peak_memory_grows_by_less_than_50_mb_with_20000_examples(tmp_path):
    without = _peak(str(tmp_path / "without"), False)
    with_ = _peak(str(tmp_path / "with"), True)
    assert without["examples_mib"] > 200  # both hold the examples array
    grown = with_["peak_mib"] - without["peak_mib"]
    print(f"peak RSS {without['peak_mib']:.0f} -> {with_['peak_mib']:.0f} MiB")
    assert grown < 50 / 1.048576, f"peak memory grew by {grown:.1f} MiB"
    exemplars = tmp_path / "with" / "netviz"
    assert any(p.name.startswith("events.out") for p in exemplars.iterdir())
