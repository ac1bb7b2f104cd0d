"""When to retry a failed delivery, and when to give up on a subscription (``delivery.md`` §7).

Two profiles, chosen per subscription (``retry_profile``):

``durable`` (default)
    Svix's schedule: retries after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — 8 attempts over
    at least 27.6 h, so a day-long outage loses nothing.  The subscription is deactivated
    once it has failed without a single success for 5 days (and is still failing: at least 5
    failed attempts in the last 24 h), with a warning after 3 days.

``instructure``
    What Instructure does: 3 retries over about 15–20 minutes (75 s, ×3 each time), and
    deactivation after 9,500 events timed out or 28,000 events failed otherwise, after all
    their retries, within 24 h.

Jitter stretches each delay by a random 0–``jitter`` fraction (never shortens it, so the
horizon is a guaranteed minimum) and spreads the retries of many failed deliveries.

Everything is a pure function of its arguments: the time is passed in (``now``/``at``),
randomness comes from an injectable ``random.Random``, and :class:`Health` — what the rule
remembers about a subscription — is an immutable value the store keeps as JSON.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from liveevents.delivery.outcome import Delivered, Failed, Outcome

__all__ = ["PROFILES", "DeactivationRule", "DeliveryProfile", "Health", "RetrySchedule", "Verdict"]

_HOUR = 3600


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    delays: tuple[float, ...]  # seconds before retry 1, 2, ...
    jitter: float = 0.2
    max_retry_after: float = 6 * _HOUR  # cap on a receiver's Retry-After

    @property
    def attempts(self) -> int:
        return len(self.delays) + 1

    @property
    def horizon(self) -> timedelta:
        """The shortest time from the first to the last attempt."""
        return timedelta(seconds=sum(self.delays))

    def next_attempt_at(
        self, attempts_made: int, failed_at: datetime, outcome: Failed, rng: random.Random | None = None
    ) -> datetime | None:
        """When to try again after the ``attempts_made``-th attempt failed; ``None``: give up.

        A receiver's ``Retry-After`` can postpone the retry (up to ``max_retry_after``),
        never bring it forward.
        """
        if not outcome.retryable or not 1 <= attempts_made <= len(self.delays):
            return None
        delay = self.delays[attempts_made - 1] * (1 + (rng or random).uniform(0, self.jitter))
        if outcome.retry_after is not None:
            delay = max(delay, min(outcome.retry_after, self.max_retry_after))
        return failed_at + timedelta(seconds=delay)


@dataclass(frozen=True, slots=True)
class _Hour:
    """Counts of one clock hour (Unix hours): failed attempts, and events given up on."""

    hour: int
    failed_attempts: int = 0
    exhausted_timeouts: int = 0
    exhausted_errors: int = 0


@dataclass(frozen=True, slots=True)
class Health:
    """What the deactivation rule knows about one subscription.

    ``failing_since``: the first failure after the last success (``None`` while healthy).
    Counts are kept per clock hour over the rule's window (24 h, to the hour).
    """

    failing_since: datetime | None = None
    warned: bool = False
    hours: tuple[_Hour, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "failing_since": None if self.failing_since is None else self.failing_since.isoformat(),
            "warned": self.warned,
            "hours": [[h.hour, h.failed_attempts, h.exhausted_timeouts, h.exhausted_errors] for h in self.hours],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Health:
        since = data.get("failing_since")
        return cls(
            failing_since=None if since is None else datetime.fromisoformat(since),
            warned=bool(data.get("warned", False)),
            hours=tuple(_Hour(*counts) for counts in data.get("hours", ())),
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Literal["ok", "warn", "deactivate"]
    reason: str = ""


_OK = Verdict("ok")


@dataclass(frozen=True, slots=True)
class DeactivationRule:
    """When a subscription is deactivated; any limit left ``None`` does not apply.

    ``exhausted_timeouts`` / ``exhausted_errors``: events given up on (after all retries)
    within ``window``, because of timeouts / of other errors.  ``failing_for``: no success for
    this long, while at least ``min_recent_failures`` attempts failed within ``window``.
    ``warn_after``: a warning, once, when failing this long.
    """

    window: timedelta = timedelta(hours=24)
    exhausted_timeouts: int | None = None
    exhausted_errors: int | None = None
    failing_for: timedelta | None = None
    min_recent_failures: int = 1
    warn_after: timedelta | None = None

    def observe(self, health: Health, outcome: Outcome, *, at: datetime, exhausted: bool = False) -> tuple[Health, Verdict]:
        """Record one attempt's ``outcome`` (``exhausted``: it was the event's last attempt)
        and judge the subscription.  Returns the new health and what to do."""
        if isinstance(outcome, Delivered):
            return Health(hours=self._recent(health.hours, at)), _OK
        hour = int(at.timestamp()) // _HOUR
        hours = list(self._recent(health.hours, at))
        current = hours.pop() if hours and hours[-1].hour == hour else _Hour(hour)
        current = replace(
            current,
            failed_attempts=current.failed_attempts + 1,
            exhausted_timeouts=current.exhausted_timeouts + int(exhausted and outcome.is_timeout),
            exhausted_errors=current.exhausted_errors + int(exhausted and not outcome.is_timeout),
        )
        health = Health(health.failing_since or at, health.warned, (*hours, current))
        verdict = self.judge(health, now=at)
        if verdict.action == "warn":
            health = replace(health, warned=True)
        return health, verdict

    def judge(self, health: Health, *, now: datetime) -> Verdict:
        hours = self._recent(health.hours, now)
        timeouts = sum(h.exhausted_timeouts for h in hours)
        errors = sum(h.exhausted_errors for h in hours)
        failed = sum(h.failed_attempts for h in hours)
        window = _span(self.window)
        if self.exhausted_timeouts is not None and timeouts >= self.exhausted_timeouts:
            return Verdict("deactivate", f"{timeouts} events timed out after all retries within {window} (limit {self.exhausted_timeouts})")
        if self.exhausted_errors is not None and errors >= self.exhausted_errors:
            return Verdict("deactivate", f"{errors} events failed after all retries within {window} (limit {self.exhausted_errors})")
        if health.failing_since is None or failed < self.min_recent_failures:
            return _OK
        failing = now - health.failing_since
        since = health.failing_since.astimezone(timezone.utc).isoformat(timespec="seconds")
        if self.failing_for is not None and failing >= self.failing_for:
            return Verdict(
                "deactivate",
                f"no successful delivery since {since} ({_span(failing)}; limit {_span(self.failing_for)}), "
                f"{failed} failed attempts within {window}",
            )
        if self.warn_after is not None and failing >= self.warn_after and not health.warned:
            deadline = "" if self.failing_for is None else f"; deactivated after {_span(self.failing_for)}"
            return Verdict("warn", f"no successful delivery since {since} ({_span(failing)}{deadline})")
        return _OK

    def _recent(self, hours: tuple[_Hour, ...], now: datetime) -> tuple[_Hour, ...]:
        first = (int(now.timestamp()) - int(self.window.total_seconds())) // _HOUR + 1
        return tuple(h for h in hours if h.hour >= first)


@dataclass(frozen=True, slots=True)
class DeliveryProfile:
    name: str
    retry: RetrySchedule
    deactivation: DeactivationRule = field(default_factory=DeactivationRule)


PROFILES: dict[str, DeliveryProfile] = {
    "durable": DeliveryProfile(
        "durable",
        RetrySchedule((5, 300, 1800, 2 * _HOUR, 5 * _HOUR, 10 * _HOUR, 10 * _HOUR)),
        DeactivationRule(failing_for=timedelta(days=5), min_recent_failures=5, warn_after=timedelta(days=3)),
    ),
    "instructure": DeliveryProfile(
        "instructure",
        RetrySchedule((75, 225, 675)),
        DeactivationRule(exhausted_timeouts=9_500, exhausted_errors=28_000),
    ),
}


def _span(duration: timedelta) -> str:
    seconds = duration.total_seconds()
    if seconds >= 2 * 86_400:
        return f"{round(seconds / 86_400, 1):g} d"
    if seconds >= _HOUR:
        return f"{round(seconds / _HOUR, 1):g} h"
    return f"{round(seconds / 60):g} min"
