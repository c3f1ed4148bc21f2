"""The Azure LB's per-member state machine: how raw probe results become "up" or "down".

The LB does not act on one result. The first result after a member appears sets its state; from then
on the state flips only after ``threshold`` consecutive results the other way (``probeThreshold``; 1
when ARM has none, because Azure does not honour ``numberOfProbes`` — probe-semantics.md §2). A
result that agrees with the state resets the count. So with AKS's threshold 2, one failed probe
leaves a node in rotation ("up, approaching unhealthy") and two take it out; the way back needs two
successes in a row.

``probe`` replays this machine over akslbctl's own results so that its table shows both the last
result and the state the LB would be in. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from akslbctl.records import record

UP, DOWN = "up", "down"
HISTORY = 12  # results kept per member: enough for a short ✓✓✗✗ trail on one line


@record(frozen=True)
class MemberState:
    """One member's state as the LB would hold it after the results seen so far.

    ``state`` is None before the first result. ``against`` counts the consecutive latest results
    that disagree with ``state`` (the progress towards a flip); ``flipped`` is True when the latest
    result changed the state (the first result sets it and does not count as a flip).
    """

    threshold: int = 1
    state: str | None = None
    last: bool | None = None  # the latest result: True = success
    against: int = 0
    flipped: bool = False
    results: int = 0  # results seen in total
    history: tuple[bool, ...] = ()  # the latest results, oldest first, at most HISTORY

    @property
    def up(self) -> bool:
        return self.state == UP

    @property
    def pending(self) -> bool:
        """The latest result(s) disagree with the state, but not yet ``threshold`` times in a row.

        Azure reports this as ``Up_Probe_ApproachingUnhealthyThreshold`` or
        ``Down_Probe_ApproachingHealthyThreshold``.
        """
        return self.against > 0

    def history_text(self, ok: str = "✓", failed: str = "✗") -> str:
        return "".join(ok if r else failed for r in self.history)


def initial(threshold: int) -> MemberState:
    """A member the LB has not probed yet. A threshold below 1 counts as 1 (Azure's default)."""
    return MemberState(threshold=max(1, int(threshold or 1)))


def step(current: MemberState, success: bool) -> MemberState:
    """The state after one more probe result."""
    history = (*current.history, bool(success))[-HISTORY:]
    result = UP if success else DOWN
    if current.state is None:
        return MemberState(current.threshold, result, bool(success), 0, False, current.results + 1, history)
    if result == current.state:
        return MemberState(current.threshold, current.state, bool(success), 0, False, current.results + 1, history)
    against = current.against + 1
    if against >= current.threshold:
        return MemberState(current.threshold, result, bool(success), 0, True, current.results + 1, history)
    return MemberState(current.threshold, current.state, bool(success), against, False, current.results + 1, history)


def replay(results: Iterable[bool], threshold: int) -> MemberState:
    """The state after ``results`` (oldest first), from a member never probed before."""
    state = initial(threshold)
    for r in results:
        state = step(state, r)
    return state


def states_over(results: Iterable[bool], threshold: int) -> list[str]:
    """The state after each result in turn: what a round-by-round table shows."""
    state = initial(threshold)
    out = []
    for r in results:
        state = step(state, r)
        out.append(state.state or "")
    return out
