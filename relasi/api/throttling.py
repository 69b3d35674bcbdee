"""API rate limits: per API key and per signed-in user, counted in the shared cache (Redis in production).

A fixed window per client: `cache.add` then `cache.incr` is atomic in Redis, so every web process counts
the same requests and concurrent ones cannot slip through. Limits come from settings on each request. When the
cache cannot be reached the request is let through (and logged): a limiter must not take the API down with it.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from relasi.core.audit import Actor
from relasi.core.rates import rate_parse

logger = logging.getLogger(__name__)


class ClientRateThrottle(BaseThrottle):
    """Limits each API key (API_RATE_LIMIT_PER_KEY) and each signed-in user (API_RATE_LIMIT_PER_USER)."""

    def __init__(self) -> None:
        # One throttle serves every request: the wait of a refused one is kept per thread.
        self.refused = threading.local()

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
        try:
            count = _count(f"api-rate:{client}:{period}:{window}", timeout=period + 5)
        except Exception:
            logger.warning("API rate limit not counted: the cache cannot be reached", exc_info=True)
            return True
        if count <= limit:
            return True
        self.refused.retry_after = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return max(1.0, math.ceil(getattr(self.refused, "retry_after", 1.0)))


def _count(key: str, *, timeout: int) -> int:
    """This request's number in its window. The key outlives the window a little, so a slow request at its
    end still finds the count."""
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:
        # Evicted between add and incr: count this request as the window's first.
        cache.set(key, 1, timeout=timeout)
        return 1
