"""Rates written as "requests per period" ("600/min", "20/s", "100/5m"): read once, in settings and where used."""

from __future__ import annotations

import re

RATE_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
RATE_PATTERN = re.compile(r"([1-9]\d{0,8})/([1-9]\d{0,5})?(s|sec|m|min|h|hour|d|day)")


def rate_parse(rate: str) -> tuple[int, int]:
    """'600/min' → (600, 60): requests, and the period in seconds. ValueError for anything else."""
    match = RATE_PATTERN.fullmatch(rate.strip())
    if match is None:
        raise ValueError(f"Not a rate like 600/min, 20/s or 10000/h: {rate!r}")
    count, periods, unit = match.groups()
    return int(count), int(periods or 1) * RATE_PERIODS[unit]
