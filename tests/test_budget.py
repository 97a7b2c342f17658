"""The overhead budget: heavy kinds wait while NetViz would cost too much."""

from __future__ import annotations

import numpy as np
import pytest
from logs import event_writer, read_records
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
    # Never ran: the cost is unknown; a kind that shrinks does a quarter.
    assert b.plan(Deconv(), False, spent=0.0, final=False) == 1.0
    assert b.plan(Ascent(), True, spent=0.0, final=False) == budget.MIN_SCALE
    assert b.ran("deconv", 2.0, tracing=0.0, scale=1.0) == []
    clock.now += 3.0  # 2 s of that was NetViz: 2 s of training
    assert b.plan(Deconv(), False, spent=2.0, final=False) is None  # 2 > 0.5 - 2
    assert b.plan(Deconv(), False, spent=2.0, final=True) == 1.0  # whole at the end
    assert b.plan(Activations(), False, spent=2.0, final=False) == 1.0  # light
    assert b.defer("deconv", 1) is True  # the first deferral is announced
    assert b.defer("deconv", 2) is False
    clock.now += 30.0  # 32 s of training: 2 + 2 <= 8
    assert b.plan(Deconv(), False, spent=2.0, final=False) == 1.0
    assert b.ran("deconv", 2.0, tracing=0.0, scale=1.0) == [1, 2]  # made up for
    assert b.deferred == {}


def test_the_steady_cost_predicts_and_a_kind_that_shrinks_does_what_fits(clock):
    b = budget.OverheadBudget(0.25)
    b.start()
    # The first run did a quarter of the steps in 3 s, 2.5 s of it tracing:
    # a whole run costs (3 - 2.5) / 0.25 = 2 s, not 12 s.
    b.ran("ascent", 3.0, tracing=2.5, scale=0.25)
    clock.now += 3.0 + 11.0  # 11 s of training: 0.25 * 11 - 3 = -0.25 left
    assert b.plan(Ascent(), True, spent=3.0, final=False) is None  # deferred
    assert b.plan(Ascent(), True, spent=3.0, final=True) == budget.MIN_SCALE
    clock.now += 5.0  # 16 s of training: 1 s left, half a run
    assert b.plan(Ascent(), True, spent=3.0, final=False) == pytest.approx(0.5)
    assert b.plan(Deconv(), False, spent=3.0, final=False) == 1.0  # never ran
    clock.now += 4.0  # 20 s: 2 s left, a whole run fits
    assert b.plan(Ascent(), True, spent=3.0, final=False) == 1.0
    # Half the steps in 1 s, no tracing: still 2 s for a whole run.
    b.ran("ascent", 1.0, tracing=0.0, scale=0.5)
    assert b.plan(Ascent(), True, spent=3.0, final=False) == 1.0


def test_kinds_deferred_at_one_step_are_announced_in_one_line(clock, capsys):
    b = budget.OverheadBudget(0.25)
    b.announce([], 1)
    assert capsys.readouterr().out == ""
    b.announce(["deconv", "sanity", "ascent"], 1)
    b.announce(["exemplars"], 2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        "NetVizCallback: deconv, sanity and ascent deferred at step 1: they would "
        "take NetViz past 25% of the training time so far"
    )
    assert "they run at the next step that fits" in lines[0]
    assert lines[1].startswith("NetVizCallback: exemplars deferred at step 2: it would")
    assert "it runs at the next step that fits" in lines[1]


def test_no_budget_runs_everything(clock):
    b = budget.OverheadBudget(None)
    b.start()
    b.ran("deconv", 100.0, tracing=0.0, scale=1.0)
    assert b.plan(Deconv(), False, spent=100.0, final=False) == 1.0
    assert b.plan(Ascent(), True, spent=100.0, final=False) == 1.0


def test_heavy_kinds_are_deferred_in_a_real_fit_and_said_so(tmp_path, capsys):
    x, y = data(32)
    kwargs = dict(
        probe=x[:2],
        layers=["conv1"],
        # far more steps than training 32 tiny samples an epoch
        ascent=Ascent(freq=1, steps=400, channels=4),
        deconv=None,
        sanity=Sanity(freq=1),
    )
    cb = NetVizCallback(str(tmp_path / "budget"), **kwargs)
    compiled(small_cnn()).fit(x, y, epochs=4, batch_size=32, callbacks=[cb], verbose=0)
    printed = [line for line in capsys.readouterr().out.splitlines() if "defer" in line]
    # Both wait from step 1 on, and say so once, in one line.
    assert len(printed) == 1 and "overhead_budget=None" in printed[0]
    assert printed[0].startswith("NetVizCallback: ascent and sanity deferred at step 1")
    records = read_records(f"{tmp_path}/budget/netviz")
    assert records["ascent/conv1"] == [0, 3]  # the first due step and the last epoch
    assert records["activations/conv1"] == [0, 1, 2, 3]  # light kinds always run
    client = make_client(str(tmp_path))[0]
    query = {"run": "budget/netviz", "tag": "ascent/conv1"}
    steps = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
    assert "deferred_steps" not in steps[0]["info"]
    assert steps[1]["info"]["deferred_steps"] == [1, 2]
    assert all(s["info"]["seconds"] > 0 for s in steps)
    # Made smaller, and said so: the first run (cost unknown) and the final
    # epoch (past the budget) do a quarter of the 400 steps.
    for s in steps:
        assert s["info"]["shrunk"] == {"steps": [100, 400]}
        assert s["info"]["steps_done"] == 100
    assert cb.deferred == {}

    free = NetVizCallback(str(tmp_path / "free"), overhead_budget=None, **kwargs)
    compiled(small_cnn()).fit(
        x, y, epochs=4, batch_size=32, callbacks=[free], verbose=0
    )
    assert read_records(f"{tmp_path}/free/netviz")["ascent/conv1"] == [0, 1, 2, 3]
    client = make_client(str(tmp_path))[0]
    query = {"run": "free/netviz", "tag": "ascent/conv1"}
    steps = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
    assert all("shrunk" not in s["info"] for s in steps)
    assert all(s["info"]["steps_done"] == 400 for s in steps)


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


def test_a_smaller_run_builds_no_new_graph_and_says_what_it_did(tmp_path):
    from tb_netviz.loggers.accentuation import AccentuationLogger
    from tb_netviz.loggers.ascent import AscentLogger
    from tb_netviz.methods.common.traced import tracing_seconds

    x, _ = data(4)
    model = small_cnn()
    ascent = AscentLogger(model, ["conv1"], channels=2, steps=8)
    accent = AccentuationLogger(model, x[:2], ["conv1"], top_k=1)
    with event_writer(tmp_path):
        assert ascent.log(0) and accent.log(0)  # whole: each traces here
        assert ascent.tracing_seconds > 0 and accent.tracing_seconds > 0
        before = tracing_seconds()
        assert ascent.log(1, scale=0.25) and accent.log(1, scale=0.5)
        assert tracing_seconds() == before  # the steps are a traced argument
        assert ascent.tracing_seconds == accent.tracing_seconds == 0
        assert (ascent.scale, accent.scale) == (0.25, 0.5)
    client = make_client(str(tmp_path))[0]
    for tag, shrunk in (("ascent/conv1", [2, 8]), ("accentuation/conv1", [32, 64])):
        query = {"run": ".", "tag": tag}
        steps = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
        assert "shrunk" not in steps[0]["info"], tag
        assert steps[1]["info"]["shrunk"] == {"steps": shrunk}, tag
    with pytest.raises(ValueError, match=r"scale must be in \(0, 1\]"):
        ascent.log(2, scale=0.0)
