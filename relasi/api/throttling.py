"""API rate limits: per API key and per signed-in user, counted in the shared cache (Redis in production).

A fixed window per client: `cache.add` then `cache.incr` is atomic in Redis, so every web process counts
the same requests and concurrent ones cannot slip through. Limits come from settings on each request.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from relasi.core.audit import Actor

RATE_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def rate_parse(rate: str) -> tuple[int, int]:
    """'600/min' → (600, 60). A rate is requests per period; the period may carry a count ('100/5m')."""
    count, _slash, period = rate.partition("/")
    digits = period.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = period[len(digits) :]
    if not count.isdigit() or unit not in RATE_PERIODS or (digits and not digits.isdigit()):
        raise ValueError(f"Not a rate like 600/min: {rate!r}")
    return int(count), int(digits or 1) * RATE_PERIODS[unit]


class ClientRateThrottle(BaseThrottle):
    """Limits each API key (API_RATE_LIMIT_PER_KEY) and each signed-in user (API_RATE_LIMIT_PER_USER)."""

    def __init__(self) -> None:
        self.retry_after = 0.0

    def allow_request(self, request: HttpRequest) -> bool:
        actor: Actor | None = getattr(request, "actor", None)
        if actor is None or not settings.API_RATE_LIMITS_ENABLED:
            return True
        if actor.api_key is not None:
            client, rate = f"key:{actor.api_key.pk}", settings.API_RATE_LIMIT_PER_KEY
        elif actor.user is not None:
            client, rate = f"user:{actor.user.pk}", settings.API_RATE_LIMIT_PER_USER
        else:
            return True
        limit, period = rate_parse(rate)
        now = time.time()
        window = int(now // period)
        key = f"api-rate:{client}:{period}:{window}"
        # The window's key outlives it a little, so a slow request at its end still finds the count.
        cache.add(key, 0, timeout=period + 5)
        try:
            count = cache.incr(key)
        except ValueError:
            # Evicted between add and incr: count this request as the window's first.
            cache.set(key, 1, timeout=period + 5)
            count = 1
        if count <= limit:
            return True
        self.retry_after = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return max(1.0, math.ceil(self.retry_after))
