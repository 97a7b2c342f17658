"""The schedule: which specs are due at an epoch, and the overhead budget that
makes heavy ones smaller, or wait, while NetViz would cost too much.

NetViz's own time (inside the callback's hooks) is kept at most `share` of
the training time so far (the fit's wall time minus NetViz's). A heavy spec
that is due is predicted to cost its steady cost: the seconds of its last
run without the graph building of that run (`Logger.tracing_seconds`, a
one-off), divided by the share of its work that run did. When that would
pass the budget, a kind that shrinks (its steps) runs the share that fits,
if that is at least `MIN_SCALE`; otherwise it is deferred to the next step
where it fits. Its first run (cost unknown) does `MIN_SCALE` of the work of
a kind that shrinks, all of it otherwise; the final epoch always runs, at
least `MIN_SCALE`, so there are early pictures and pictures of the trained
model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from tb_netviz.loggers.spec import Spec

MIN_SCALE = 0.25  # the least share of its work a shrinking kind is run at


class OverheadBudget:
    """Decides which due specs run now.

    Attributes:
      share: the largest share of training time NetViz may take, or None
        (no budget: everything runs when due).
      deferred: `{group: [step, ...]}`, the due steps not yet made up for.
    """

    def __init__(self, share: float | None):
        self.share = share
        self.deferred: dict[str, list[int]] = {}
        self._steady: dict[str, float] = {}
        self._announced: set[str] = set()
        self._start = time.perf_counter()

    def start(self) -> None:
        """Marks the beginning of training."""
        self._start = time.perf_counter()
        self.deferred.clear()
        self._steady.clear()

    def due(
        self, specs: Sequence[Spec], epoch: int, final: bool, heavy_only: bool = False
    ) -> list[tuple[Spec, bool]]:
        """The specs to try after 0-based `epoch`, as `(spec, hit)` pairs.

        A spec is hit when its schedule says so (`Spec.due`); a heavy one that
        is not hit but owes deferred steps comes with hit False (it only
        makes up for them). `specs` are in the order their needs ask for
        (`loggers.order`), and so is the answer. With `heavy_only` the light
        specs are left out (they follow batches).
        """
        found = []
        for spec in specs:
            hit = spec.due(epoch, final)
            if heavy_only and not spec.heavy:
                continue
            if hit or spec.group in self.deferred:
                found.append((spec, hit))
        return found

    def plan(self, spec: Spec, shrinks: bool, spent: float, final: bool):
        """The share of its work `spec` does now, in (0, 1], or None: it waits.

        Args:
          spec: a due spec.
          shrinks: its logger can do a share of its work (`Logger.shrinks`).
          spent: NetViz's seconds so far in this fit.
          final: this is the last epoch of the fit.
        """
        if self.share is None or not spec.heavy:
            return 1.0
        cost = self._steady.get(spec.group)
        if cost is None:  # its first run: the cost is not known yet
            return MIN_SCALE if shrinks else 1.0
        training = time.perf_counter() - self._start - spent
        left = self.share * training - spent
        if cost <= left:
            return 1.0
        if shrinks and (final or left >= MIN_SCALE * cost):
            return max(MIN_SCALE, left / cost)
        return 1.0 if final else None

    def defer(self, group: str, step: int) -> bool:
        """Records a deferred due step; returns True the first time for
        `group` (the callback then `announce`s it)."""
        first = group not in self._announced
        self.deferred.setdefault(group, []).append(int(step))
        self._announced.add(group)
        return first

    def announce(self, groups: Sequence[str], step: int) -> None:
        """Prints one line for the kinds first deferred at `step` (in running
        order), saying why and how to change it; nothing for none."""
        if not groups:
            return
        one = len(groups) == 1
        names = groups[0] if one else f"{', '.join(groups[:-1])} and {groups[-1]}"
        it, runs = ("it", "runs") if one else ("they", "run")
        print(
            f"NetVizCallback: {names} deferred at step {step}: {it} would take "
            f"NetViz past {self.share:.0%} of the training time so far (ascent "
            f"and accentuation first do fewer steps, down to {MIN_SCALE:.0%}); "
            f"{it} {runs} at the next step that fits and at the last epoch (set "
            "overhead_budget=None, or a larger share, to run every kind whole at "
            "every due step)."
        )

    def ran(self, group: str, seconds: float, tracing: float, scale: float):
        """Records a run of `group` that took `seconds`, `tracing` of them
        building graphs, doing `scale` of its work; returns the steps it made
        up for."""
        self._steady[group] = max(seconds - tracing, 0.0) / scale
        return self.deferred.pop(group, [])
