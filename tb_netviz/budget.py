"""The overhead budget: heavy kinds wait while NetViz would cost too much.

NetViz's own time (inside the callback's hooks) is kept at most `share` of
the training time so far (the fit's wall time minus NetViz's). A heavy kind
that is due but would pass the budget, judged by what it cost the last time
it ran, is deferred to the next step where it fits; its first due step and
the final epoch always run, so there are early pictures and pictures of the
trained model.
"""

from __future__ import annotations

import time

# The groups whose cost can dwarf a training epoch; activations (one forward
# pass of the probe) and the probe itself always run.
HEAVY = ("ascent", "deconv", "examples", "sanity")


class OverheadBudget:
    """Decides which due heavy kinds can run now.

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
        self, freqs: dict[str, int], epoch: int, skip: tuple[str, ...] = ()
    ) -> list[tuple[str, bool]]:
        """The groups to try after 0-based `epoch`, as `(group, hit)` pairs.

        A group is hit when the epoch count is a multiple of its frequency in
        `freqs` (0: never); one that is not hit but owes deferred steps comes
        with hit False (it only makes up for them). Groups in `skip` are left
        out. Exemplars come first: the feature-visualization checks use them.
        """
        due = []
        for group, freq in freqs.items():
            hit = bool(freq) and (epoch + 1) % freq == 0
            if group not in skip and (hit or group in self.deferred):
                due.append((group, hit))
        return sorted(due, key=lambda pair: pair[0] != "examples")

    def allows(self, group: str, spent: float, final: bool) -> bool:
        """Whether `group` may run now.

        Args:
          group: a key of `metadata.GROUPS`.
          spent: NetViz's seconds so far in this fit.
          final: this is the last epoch of the fit.
        """
        cost = self._cost.get(group)
        if self.share is None or group not in HEAVY or cost is None or final:
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
