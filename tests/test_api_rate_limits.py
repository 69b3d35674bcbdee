"""API rate limits: per API key and per signed-in user, a 429 problem with Retry-After over the limit."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from relasi.core.rates import rate_parse

URL = "/api/v1/workspace"
START = datetime(2026, 11, 28, 10, 0, 5, tzinfo=UTC)


@pytest.fixture
def three_a_minute(settings) -> None:
    settings.API_RATE_LIMIT_PER_KEY = "3/min"
    settings.API_RATE_LIMIT_PER_USER = "2/min"


def test_a_key_over_its_limit_gets_a_429_problem_with_retry_after(three_a_minute, acme_key) -> None:
    with time_machine.travel(START, tick=False):
        statuses = [Client().get(URL, **acme_key).status_code for _ in range(3)]
        refused = Client().get(URL, **acme_key)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    # the window started at 10:00:00, so the next request is allowed 55 seconds later
    assert refused["Retry-After"] == "55"
    assert refused.json() == {
        "type": "https://relasi.dev/problems/rate-limited",
        "title": "Too many requests.",
        "status": 429,
        "detail": (
            "This API key or user sent more requests than its limit allows; retry after Retry-After seconds."
        ),
    }


def test_the_limit_comes_back_in_the_next_window(three_a_minute, acme_key) -> None:
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            Client().get(URL, **acme_key)
    with time_machine.travel(START.replace(minute=1), tick=False):
        assert Client().get(URL, **acme_key).status_code == 200


def test_each_key_has_its_own_count(three_a_minute, acme_key, globex_key) -> None:
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            Client().get(URL, **acme_key)
        assert Client().get(URL, **globex_key).status_code == 200


def test_a_signed_in_user_has_the_user_limit(three_a_minute, acme, alice, client_for) -> None:
    client = client_for(alice)
    with time_machine.travel(START, tick=False):
        statuses = [client.get(URL, HTTP_X_WORKSPACE="acme").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_limits_can_be_switched_off(settings, acme_key) -> None:
    settings.API_RATE_LIMIT_PER_KEY = "1/min"
    settings.API_RATE_LIMITS_ENABLED = False
    assert [Client().get(URL, **acme_key).status_code for _ in range(3)] == [200, 200, 200]


def test_a_refused_key_is_not_counted_against_a_good_one(three_a_minute, acme_key) -> None:
    # failed authentication answers 401 before any count
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            assert Client().get(URL, HTTP_AUTHORIZATION="Bearer rls_nope_nope").status_code == 401
        assert Client().get(URL, **acme_key).status_code == 200


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("600/min", (600, 60)), ("20/s", (20, 1)), ("10000/h", (10000, 3600)), ("100/5m", (100, 300))],
)
def test_rates_are_read_as_requests_per_period(rate: str, parsed: tuple[int, int]) -> None:
    assert rate_parse(rate) == parsed


@pytest.mark.parametrize("rate", ["600", "x/min", "600/fortnight", "/min", "10/0m", "0/min", "99999999999/s"])
def test_a_bad_rate_is_refused(rate: str) -> None:
    with pytest.raises(ValueError):
        rate_parse(rate)


def test_settings_refuse_a_bad_rate_at_start() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env={**os.environ, "API_RATE_LIMIT_PER_KEY": "lots"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "API rate limits look like 600/min, 20/s or 10000/h; got 'lots'." in result.stderr
    assert ImproperlyConfigured.__name__ in result.stderr


def test_an_unreachable_cache_lets_requests_through(settings, acme_key, caplog) -> None:
    # given a cache (Redis) that is down
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    settings.API_RATE_LIMIT_PER_KEY = "1/min"
    # when requests come, then they are served (the limit is not counted) and the outage is logged
    assert [Client().get(URL, **acme_key).status_code for _ in range(2)] == [200, 200]
    assert "API rate limit not counted: the cache cannot be reached" in caplog.text
