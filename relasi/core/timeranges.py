"""Date ranges in a workspace's own time zone, returned as UTC-aware half-open intervals.

Filters such as "today" or "per month" mean the workspace's calendar day or month, not UTC's:
a customer updated at 23:30 in Jakarta on 1 March belongs to 1 March even though it is 16:30 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone


@dataclass(frozen=True)
class DateRange:
    """[start, end) in UTC. Either bound may be None for an open side."""

    start: datetime | None
    end: datetime | None

    def contains(self, moment: datetime) -> bool:
        after_start = self.start is None or moment >= self.start
        before_end = self.end is None or moment < self.end
        return after_start and before_end


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def local_today(*, zone: ZoneInfo, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(zone).date()


def range_all_time() -> DateRange:
    return DateRange(start=None, end=None)


def range_day(*, day: date, zone: ZoneInfo) -> DateRange:
    return DateRange(start=_local_midnight(day, zone), end=_local_midnight(day + timedelta(days=1), zone))


def range_today(*, zone: ZoneInfo, now: datetime | None = None) -> DateRange:
    return range_day(day=local_today(zone=zone, now=now), zone=zone)


def range_last_days(*, days: int, zone: ZoneInfo, now: datetime | None = None) -> DateRange:
    """The last `days` calendar days including today (last 7 days = today and the 6 before)."""
    today = local_today(zone=zone, now=now)
    first = today - timedelta(days=days - 1)
    return DateRange(start=_local_midnight(first, zone), end=_local_midnight(today + timedelta(days=1), zone))


def range_month(*, year: int, month: int, zone: ZoneInfo) -> DateRange:
    first = date(year, month, 1)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return DateRange(start=_local_midnight(first, zone), end=_local_midnight(following, zone))


def range_custom(*, first_day: date, last_day: date, zone: ZoneInfo) -> DateRange:
    """Both days included, in the workspace's calendar."""
    if last_day < first_day:
        raise ValueError("The last day is before the first day.")
    return DateRange(
        start=_local_midnight(first_day, zone), end=_local_midnight(last_day + timedelta(days=1), zone)
    )
