"""Retry schedules and deactivation, with an injected clock and random source."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from liveevents.delivery.outcome import Delivered, Failed
from liveevents.delivery.policy import PROFILES, DeactivationRule, Health, RetrySchedule, Verdict

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
UNAVAILABLE = Failed("http_503", "HTTP 503 Service Unavailable")
TIMEOUT = Failed("timeout", "no answer within 15 s")
DELIVERED = Delivered(0.05, status_code=200)


class Fixed(random.Random):
    """A random source that always draws the same fraction of the range."""

    def __init__(self, fraction: float) -> None:
        super().__init__()
        self.fraction = fraction

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.fraction


def retry_times(schedule: RetrySchedule, rng: random.Random, outcome: Failed = UNAVAILABLE) -> list[datetime]:
    """Attempt times of a delivery that always fails, the first at T0."""
    times, attempt = [T0], 1
    while (following := schedule.next_attempt_at(attempt, times[-1], outcome, rng)) is not None:
        times.append(following)
        attempt += 1
    return times


def test_durable_schedule_outlasts_a_day() -> None:
    schedule = PROFILES["durable"].retry
    times = retry_times(schedule, Fixed(0.0))
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(times, times[1:])]
    assert gaps == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert schedule.attempts == 8
    assert times[-1] - T0 == timedelta(hours=27, minutes=35, seconds=5)
    assert schedule.horizon > timedelta(hours=24)


def test_jitter_only_stretches() -> None:
    schedule = PROFILES["durable"].retry
    longest = retry_times(schedule, Fixed(1.0))
    assert (longest[1] - T0).total_seconds() == pytest.approx(6.0)  # 5 s + 20 %
    assert longest[-1] - T0 == timedelta(seconds=99305 * 1.2)
    for seed in range(20):
        times = retry_times(schedule, random.Random(seed))
        assert len(times) == 8
        assert timedelta(seconds=99305) <= times[-1] - T0 <= timedelta(seconds=99305 * 1.2)


def test_jitter_spreads_retries() -> None:
    schedule = PROFILES["durable"].retry
    firsts = {schedule.next_attempt_at(3, T0, UNAVAILABLE, random.Random(seed)) for seed in range(10)}
    assert len(firsts) == 10


def test_instructure_profile_gives_up_after_about_a_quarter_of_an_hour() -> None:
    schedule = PROFILES["instructure"].retry
    shortest, longest = retry_times(schedule, Fixed(0.0)), retry_times(schedule, Fixed(1.0))
    assert len(shortest) == 4  # 3 retries
    assert [(b - a).total_seconds() for a, b in zip(shortest, shortest[1:])] == [75, 225, 675]
    assert timedelta(minutes=10) <= shortest[-1] - T0 and longest[-1] - T0 <= timedelta(minutes=20)


def test_not_retryable_is_not_retried() -> None:
    refused = Failed("sqs:InvalidMessageContents", "Invalid characters", retryable=False)
    assert PROFILES["durable"].retry.next_attempt_at(1, T0, refused) is None


def test_retry_after_postpones_but_never_hastens() -> None:
    schedule = RetrySchedule((5, 300), jitter=0.0, max_retry_after=3600)
    later = Failed("http_429", "Too Many Requests", retry_after=120)
    assert schedule.next_attempt_at(1, T0, later) == T0 + timedelta(seconds=120)
    assert schedule.next_attempt_at(2, T0, later) == T0 + timedelta(seconds=300)
    excessive = Failed("http_503", "", retry_after=86400)
    assert schedule.next_attempt_at(1, T0, excessive) == T0 + timedelta(hours=1)


def test_out_of_range_attempt_numbers() -> None:
    schedule = RetrySchedule((5,), jitter=0.0)
    assert schedule.next_attempt_at(0, T0, UNAVAILABLE) is None
    assert schedule.next_attempt_at(2, T0, UNAVAILABLE) is None


def test_durable_deactivates_after_five_days_of_failure_with_a_warning_first() -> None:
    rule = PROFILES["durable"].deactivation
    health, verdicts = Health(), []
    for hour in range(0, 5 * 24 + 1):  # one failed attempt an hour
        health, verdict = rule.observe(health, UNAVAILABLE, at=T0 + timedelta(hours=hour))
        verdicts.append((hour, verdict))
    acted = [(hour, verdict.action) for hour, verdict in verdicts if verdict.action != "ok"]
    assert acted == [(72, "warn"), (120, "deactivate")]
    assert health.failing_since == T0
    assert verdicts[72][1].reason == "no successful delivery since 2025-03-03T09:00:00+00:00 (3 d; deactivated after 5 d)"
    assert verdicts[120][1].reason == (
        "no successful delivery since 2025-03-03T09:00:00+00:00 (5 d; limit 5 d), 24 failed attempts within 24 h"
    )


def test_a_success_resets_the_failure_clock() -> None:
    rule = PROFILES["durable"].deactivation
    health = Health()
    for hour in range(100):
        health, _ = rule.observe(health, UNAVAILABLE, at=T0 + timedelta(hours=hour))
    health, verdict = rule.observe(health, DELIVERED, at=T0 + timedelta(hours=100))
    assert (health.failing_since, health.warned, verdict) == (None, False, Verdict("ok"))
    health, verdict = rule.observe(health, UNAVAILABLE, at=T0 + timedelta(hours=121))
    assert verdict.action == "ok" and health.failing_since == T0 + timedelta(hours=121)


def test_rare_failures_over_days_do_not_deactivate() -> None:
    # Five days without success, but only a couple of attempts a day: not "repeated failures within 24 h".
    rule = PROFILES["durable"].deactivation
    health = Health()
    for hour in range(0, 6 * 24, 12):
        health, verdict = rule.observe(health, UNAVAILABLE, at=T0 + timedelta(hours=hour))
        assert verdict.action == "ok"


def test_instructure_thresholds_count_exhausted_events_in_24_hours() -> None:
    rule = DeactivationRule(exhausted_timeouts=3, exhausted_errors=4)  # the real ones scaled down
    health = Health()
    for minute in range(3):  # failed attempts that are retried later do not count
        health, verdict = rule.observe(health, TIMEOUT, at=T0 + timedelta(minutes=minute))
        assert verdict.action == "ok"
    for minute in range(2):
        health, verdict = rule.observe(health, TIMEOUT, at=T0 + timedelta(minutes=10 + minute), exhausted=True)
    assert verdict.action == "ok"
    for minute in range(3):
        health, verdict = rule.observe(health, UNAVAILABLE, at=T0 + timedelta(minutes=20 + minute), exhausted=True)
    assert verdict.action == "ok"  # 2 timeouts, 3 other errors: both under their limits
    health, verdict = rule.observe(health, TIMEOUT, at=T0 + timedelta(hours=2), exhausted=True)
    assert verdict == Verdict("deactivate", "3 events timed out after all retries within 24 h (limit 3)")


def test_old_failures_leave_the_window() -> None:
    rule = DeactivationRule(exhausted_errors=2)
    health, _ = rule.observe(Health(), UNAVAILABLE, at=T0, exhausted=True)
    health, verdict = rule.observe(health, UNAVAILABLE, at=T0 + timedelta(hours=25), exhausted=True)
    assert verdict.action == "ok"
    assert len(health.hours) == 1
    health, verdict = rule.observe(health, UNAVAILABLE, at=T0 + timedelta(hours=26), exhausted=True)
    assert verdict == Verdict("deactivate", "2 events failed after all retries within 24 h (limit 2)")


def test_real_instructure_limits() -> None:
    rule = PROFILES["instructure"].deactivation
    assert (rule.exhausted_timeouts, rule.exhausted_errors, rule.window) == (9_500, 28_000, timedelta(hours=24))


def test_health_survives_a_json_round_trip() -> None:
    rule = PROFILES["durable"].deactivation
    health = Health()
    for hour in range(80):
        health, _ = rule.observe(health, TIMEOUT, at=T0 + timedelta(hours=hour), exhausted=hour % 2 == 0)
    restored = Health.from_dict(json.loads(json.dumps(health.to_dict())))
    assert restored == health
    assert restored.warned is True
    assert sum(h.exhausted_timeouts for h in restored.hours) == 12  # the even hours of the last 24
