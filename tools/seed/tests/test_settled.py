"""`seed.settled`: waiting until another service has caught up with a district's events."""

from __future__ import annotations

import itertools

from seed import settled


def test_an_answer_that_stops_changing_is_settled() -> None:
    answers = itertools.chain([1, 2, 3], itertools.repeat(4))
    calls: list[int] = []

    def probe() -> int:
        calls.append(answer := next(answers))
        return answer

    assert settled(probe, quiet_s=1.0, timeout_s=10.0)
    assert calls[:4] == [1, 2, 3, 4] and calls[-1] == 4
    assert 5 <= len(calls) <= 8  # it waited the quiet time after the last change, no longer


def test_an_answer_still_changing_at_the_timeout_is_not() -> None:
    counter = itertools.count()
    assert not settled(lambda: next(counter), quiet_s=1.0, timeout_s=2.0)
