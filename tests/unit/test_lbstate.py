"""The LB's per-member state machine: the first result sets the state, then it flips only after
``threshold`` consecutive results the other way (probe-semantics.md §2)."""

from __future__ import annotations

import itertools

import pytest

from akslbctl.analysis.lbstate import HISTORY, initial, replay, states_over, step


def seq(text: str) -> list[bool]:
    """'++-' → [True, True, False]."""
    return [c == "+" for c in text]


def run_based_oracle(results: list[bool], threshold: int) -> str | None:
    """The same rule stated over runs of equal results, written independently of ``step``.

    A run that disagrees with the state flips it when it is at least ``threshold`` long; a shorter one
    changes nothing, and a run that agrees changes nothing.
    """
    if not results:
        return None
    runs = [(value, len(list(group))) for value, group in itertools.groupby(results)]
    state = runs[0][0]
    for value, length in runs[1:]:
        if value != state and length >= threshold:
            state = value
    return "up" if state else "down"


# -- explicit tables ---------------------------------------------------------------------------------

TABLE = [
    # threshold, results, state after each result
    (1, "+", ["up"]),
    (1, "-", ["down"]),
    (1, "+-+-", ["up", "down", "up", "down"]),
    (1, "--++", ["down", "down", "up", "up"]),
    (2, "+", ["up"]),
    (2, "+-", ["up", "up"]),  # one failure: still in rotation (approaching unhealthy)
    (2, "+--", ["up", "up", "down"]),
    (2, "+-+-+-", ["up"] * 6),  # flapping every probe never takes it out
    (2, "-+-+-+", ["down"] * 6),  # nor puts it back
    (2, "+--+--", ["up", "up", "down", "down", "down", "down"]),
    (2, "+--++-", ["up", "up", "down", "down", "up", "up"]),
    (2, "+--+-++", ["up", "up", "down", "down", "down", "down", "up"]),
    (2, "---++", ["down", "down", "down", "down", "up"]),
    (3, "+--", ["up", "up", "up"]),
    (3, "+---", ["up", "up", "up", "down"]),
    (3, "+--+---", ["up", "up", "up", "up", "up", "up", "down"]),
    (3, "-++-+++", ["down", "down", "down", "down", "down", "down", "up"]),
    (3, "+---++-+++", ["up", "up", "up", "down", "down", "down", "down", "down", "down", "up"]),
]


@pytest.mark.parametrize(("threshold", "results", "expected"), TABLE)
def test_state_after_each_result(threshold: int, results: str, expected: list[str]) -> None:
    assert states_over(seq(results), threshold) == expected


@pytest.mark.parametrize("threshold", [1, 2, 3])
@pytest.mark.parametrize("length", range(1, 9))
def test_every_sequence_matches_the_run_based_rule(threshold: int, length: int) -> None:
    for combo in itertools.product([True, False], repeat=length):
        results = list(combo)
        assert replay(results, threshold).state == run_based_oracle(results, threshold), (threshold, results)


def test_the_first_result_sets_the_state_without_counting_as_a_flip() -> None:
    s = step(initial(2), False)
    assert (s.state, s.last, s.against, s.flipped, s.results) == ("down", False, 0, False, 1)


def test_against_counts_towards_the_flip_and_resets_on_agreement() -> None:
    s = replay(seq("+"), 3)
    s = step(s, False)
    assert (s.state, s.against, s.pending, s.flipped) == ("up", 1, True, False)
    s = step(s, False)
    assert (s.state, s.against, s.pending) == ("up", 2, True)
    s = step(s, True)  # agreement: the count starts again
    assert (s.state, s.against, s.pending) == ("up", 0, False)
    s = step(step(step(s, False), False), False)
    assert (s.state, s.against, s.flipped) == ("down", 0, True)
    s = step(s, False)
    assert s.flipped is False  # flipped says "this result changed the state", once


def test_threshold_below_one_counts_as_one() -> None:
    # Azure's default probeThreshold is 1; a zero or missing value must not freeze the state.
    assert initial(0).threshold == 1
    assert states_over(seq("+-+"), 0) == ["up", "down", "up"]


def test_history_keeps_the_latest_results_oldest_first() -> None:
    s = replay(seq("++-" + "+" * HISTORY), 2)
    assert len(s.history) == HISTORY
    assert s.history_text() == "✓" * HISTORY
    s = replay(seq("+--+"), 2)
    assert s.history_text() == "✓✗✗✓"
    assert s.history_text("+", "-") == "+--+"
    assert s.results == 4


def test_up_and_last() -> None:
    s = replay(seq("--+"), 2)
    assert (s.up, s.last, s.state) == (False, True, "down")
    assert initial(2).state is None and not initial(2).up
