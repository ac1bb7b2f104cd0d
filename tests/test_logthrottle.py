"""LogThrottle: one line per key per interval, the ones held back counted into the next line."""

from __future__ import annotations

from liveevents.logthrottle import LogThrottle


class Clock:
    """Time that moves only when the test says (the throttle's interval is a minute)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_key_a_minute_and_the_next_counts_the_ones_held_back() -> None:
    clock = Clock()
    throttle = LogThrottle(60.0, clock=clock)
    assert throttle.admit(("InvalidSignatureException", "KEY1")) == 0
    clock.now += 10
    assert [throttle.admit(("InvalidSignatureException", "KEY1")) for _ in range(4)] == [None] * 4
    assert throttle.admit(("InvalidSignatureException", "KEY2")) == 0  # another key has its own minute
    clock.now += 50
    assert throttle.admit(("InvalidSignatureException", "KEY1")) == 4
    assert throttle.note(4) == " (4 more like it since the last such line, not logged: one line every 60 s at most)"
    assert throttle.note(0) == ""
    clock.now += 59.9
    assert throttle.admit(("InvalidSignatureException", "KEY1")) is None


def test_keys_beyond_the_table_share_one_line_a_minute() -> None:
    """A client sending a new access key id with every call grows neither the table nor the log."""
    clock = Clock()
    throttle = LogThrottle(60.0, max_keys=2, clock=clock)
    assert [throttle.admit(key) for key in ("a", "b", "c", "d", "e")] == [0, 0, 0, None, None]
    clock.now += 60
    # The expired windows are forgotten to make room: new keys get lines of their own again.
    assert [throttle.admit(key) for key in ("f", "g", "h")] == [0, 0, 0]
    assert throttle.admit("i") is None


def test_a_client_varying_its_key_with_every_call_gets_at_most_65_lines_a_minute() -> None:
    """The default table: 64 keys of their own, then one shared line for the rest."""
    clock = Clock()
    throttle = LogThrottle(60.0, clock=clock)
    admitted = [throttle.admit(("UnrecognizedClientException", f"AKIA{index:016d}")) for index in range(1000)]
    assert sum(result is not None for result in admitted) == 65
