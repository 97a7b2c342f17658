"""The schedule: which specs are due at an epoch, and the overhead budget that
makes heavy ones wait while NetViz would cost too much.

NetViz's own time (inside the callback's hooks) is kept at most `share` of
the training time so far (the fit's wall time minus NetViz's). A heavy spec
that is due but would pass the budget, judged by what it cost the last time
it ran, is deferred to the next step where it fits; its first due step and
the final epoch always run, so there are early pictures and pictures of the
trained model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from tb_netviz.loggers.spec import Spec


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
        self._cost: dict[str, float] = {}
        self._announced: set[str] = set()
        self._start = time.perf_counter()

    def start(self) -> None:
        """Marks the beginning of training."""
        self._start = time.perf_counter()
        self.deferred.clear()
        self._cost.clear()

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

    def allows(self, spec: Spec, spent: float, final: bool) -> bool:
        """Whether `spec` may run now.

        Args:
          spec: a due spec.
          spent: NetViz's seconds so far in this fit.
          final: this is the last epoch of the fit.
        """
        cost = self._cost.get(spec.group)
        if self.share is None or not spec.heavy or cost is None or final:
            return True
        training = time.perf_counter() - self._start - spent
        return spent + cost <= self.share * training

    def defer(self, group: str, step: int) -> bool:
        """Records a deferred due step; the first time for `group` it prints
        one line saying so and how to change it, and returns True."""
        first = group not in self._announced
        self.deferred.setdefault(group, []).append(int(step))
        self._announced.add(group)
        if first:
            print(
                f"NetVizCallback: {group} deferred at step {step}: it would take "
                f"NetViz past {self.share:.0%} of the training time so far; it runs "
                "at the next step that fits and at the last epoch (set "
                "overhead_budget=None, or a larger share, to run it at every due "
                "step)."
            )
        return first

    def ran(self, group: str, seconds: float) -> list[int]:
        """Records what a run of `group` cost; returns the steps it made up for."""
        self._cost[group] = seconds
        return self.deferred.pop(group, [])
