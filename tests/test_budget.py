"""The overhead budget: heavy kinds wait while NetViz would cost too much."""

from __future__ import annotations

import numpy as np
import pytest
from logs import read_records
from models import compiled, data, small_cnn
from plugin_client import PREFIX, make_client

from tb_netviz import NetVizCallback, budget, loggers
from tb_netviz.loggers import Activations, Ascent, Deconv, Exemplars, Sanity, Units


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(budget.time, "perf_counter", fake)
    return fake


def test_first_run_and_final_epoch_always_run_then_the_share_decides(clock):
    b = budget.OverheadBudget(0.25)
    b.start()
    clock.now += 1.0  # one second of training, nothing spent yet
    assert b.allows(Ascent(), spent=0.0, final=False)  # never ran: unknown cost
    assert b.ran("ascent", 2.0) == []
    clock.now += 3.0  # 2 s of that was NetViz: 2 s of training
    assert not b.allows(Ascent(), spent=2.0, final=False)  # 4 > 0.25 * 2
    assert b.allows(Ascent(), spent=2.0, final=True)
    assert b.allows(Activations(), spent=2.0, final=False)  # light kinds always run
    assert b.defer("ascent", 1) is True  # the first deferral is announced
    assert b.defer("ascent", 2) is False
    clock.now += 30.0  # 32 s of training: 2 + 2 <= 8
    assert b.allows(Ascent(), spent=2.0, final=False)
    assert b.ran("ascent", 2.0) == [1, 2]  # made up for
    assert b.deferred == {}


def test_no_budget_runs_everything(clock):
    b = budget.OverheadBudget(None)
    b.start()
    b.ran("deconv", 100.0)
    assert b.allows(Deconv(), spent=100.0, final=False)


def test_heavy_kinds_are_deferred_in_a_real_fit_and_said_so(tmp_path, capsys):
    x, y = data(32)
    kwargs = dict(
        probe=x[:2],
        layers=["conv1"],
        # far more steps than training 32 tiny samples an epoch
        ascent=Ascent(freq=1, steps=400, channels=4),
        deconv=None,
        sanity=None,
    )
    cb = NetVizCallback(str(tmp_path / "budget"), **kwargs)
    compiled(small_cnn()).fit(x, y, epochs=4, batch_size=32, callbacks=[cb], verbose=0)
    printed = capsys.readouterr().out
    assert printed.count("ascent deferred at step 1") == 1
    assert "overhead_budget=None" in printed
    records = read_records(f"{tmp_path}/budget/netviz")
    assert records["ascent/conv1"] == [0, 3]  # the first due step and the last epoch
    assert records["activations/conv1"] == [0, 1, 2, 3]  # light kinds always run
    client = make_client(str(tmp_path))[0]
    query = {"run": "budget/netviz", "tag": "ascent/conv1"}
    steps = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
    assert "deferred_steps" not in steps[0]["info"]
    assert steps[1]["info"]["deferred_steps"] == [1, 2]
    assert all(s["info"]["seconds"] > 0 for s in steps)
    assert cb.deferred == {}

    free = NetVizCallback(str(tmp_path / "free"), overhead_budget=None, **kwargs)
    compiled(small_cnn()).fit(
        x, y, epochs=4, batch_size=32, callbacks=[free], verbose=0
    )
    assert read_records(f"{tmp_path}/free/netviz")["ascent/conv1"] == [0, 1, 2, 3]


@pytest.mark.parametrize("share", [0, -0.5, "quarter", True])
def test_bad_budget_is_refused(share):
    with pytest.raises(
        ValueError, match="overhead_budget must be a number > 0, or None"
    ):
        NetVizCallback(
            "/tmp/x",
            probe=data(1)[0],
            overhead_budget=share,
            ascent=None,
            deconv=None,
            units=None,
            sanity=None,
        )


def test_due_specs_by_schedule_in_needs_order_making_up_for_deferred_steps():
    b = budget.OverheadBudget(0.25)
    data = np.zeros((4, 8, 8, 1))
    specs = loggers.order(
        [Activations(), Ascent(freq=2), Units(), Exemplars(data, freq=3), Sanity()]
    )
    assert [s.group for s in specs][:2] == ["activations", "exemplars"]  # needed first

    def due(epoch, final=False, heavy_only=False):
        return [(s.group, hit) for s, hit in b.due(specs, epoch, final, heavy_only)]

    # Sanity (freq None): the first and the last epoch.
    assert due(0) == [("activations", True), ("sanity", True), ("units", True)]
    assert due(5) == [
        ("activations", True),
        ("exemplars", True),
        ("ascent", True),
        ("units", True),
    ]
    assert due(5, heavy_only=True) == [("exemplars", True), ("ascent", True)]
    assert due(6, final=True) == [
        ("activations", True),
        ("exemplars", True),
        ("sanity", True),
        ("ascent", True),
        ("units", True),
    ]
    b.defer("ascent", 1)
    assert due(4) == [("activations", True), ("ascent", False), ("units", True)]
