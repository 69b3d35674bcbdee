"""Production mode for real: settings refuse unsafe starts, and Celery moves a task through Redis to a worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


# Also leave out what other tests set for themselves (the browser tests allow sync ORM calls in async code).
SETTINGS_UNDER_TEST = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "RELASI_SITE_URL",
    "PAYMENT_GATEWAY",
    "XENDIT_SECRET_KEY",
    "XENDIT_CALLBACK_TOKEN",
)


def run_manage(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if key not in SETTINGS_UNDER_TEST}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "RELASI_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = run_manage(["check"], {"DEBUG": "false"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set in the environment when DEBUG is off." in result.stderr


def test_check_deploy_reports_nothing_with_production_settings(tmp_path: Path) -> None:
    result = run_manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {
            "DEBUG": "false",
            "SECRET_KEY": "x" * 30 + uuid.uuid4().hex + "y" * 20,
            "ALLOWED_HOSTS": "relasi.example.com",
            "RELASI_SITE_URL": "https://relasi.example.com",
            "PAYMENT_GATEWAY": "xendit",
            "XENDIT_SECRET_KEY": "xnd_production_" + uuid.uuid4().hex,
            "XENDIT_CALLBACK_TOKEN": uuid.uuid4().hex,
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    # HSTS for subdomains and the preload list are the operator's choice (off by default): those two warnings
    # are silenced until chosen
    assert "System check identified no issues (2 silenced)." in result.stdout


def test_check_deploy_warns_that_the_sandbox_gateway_pays_with_no_money(tmp_path: Path) -> None:
    # given production settings that leave the payment gateway at its default, and a Xendit without its token
    production = {
        "DEBUG": "false",
        "SECRET_KEY": "x" * 30 + uuid.uuid4().hex + "y" * 20,
        "ALLOWED_HOSTS": "relasi.example.com",
        "RELASI_SITE_URL": "https://relasi.example.com",
    }
    sandbox = run_manage(["check", "--deploy", "--fail-level", "WARNING"], production, tmp_path)
    half_xendit = run_manage(["check"], {**production, "PAYMENT_GATEWAY": "xendit"}, tmp_path)
    # then the first warns, the second refuses to start
    assert sandbox.returncode == 1
    assert "(relasi.W004) PAYMENT_GATEWAY is sandbox" in sandbox.stderr
    assert half_xendit.returncode != 0
    assert "PAYMENT_GATEWAY=xendit needs XENDIT_SECRET_KEY and XENDIT_CALLBACK_TOKEN." in half_xendit.stderr


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def test_a_task_travels_through_redis_to_a_celery_worker(tmp_path: Path) -> None:
    if not _redis_up():
        pytest.fail(
            "Redis is not reachable at 127.0.0.1:6379: run scripts/ensure-test-system.sh (make test does)."
        )
    mail_dir = tmp_path / "mail"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **{key: value for key, value in os.environ.items() if key not in ("DATABASE_URL",)},
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "CELERY_QUEUE": queue,
        "EMAIL_URL": f"filemail://{mail_dir}",
        "RELASI_VAR_DIR": str(tmp_path),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "-Q",
            queue,
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        producer = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); "
                "from relasi.core.tasks import send_templated_email_task as t; "
                "t.delay(to=['ops@relasi.test'], template='password_reset', context={'full_name': 'Ops', 'reset_url': 'http://r'}, language='en')",
            ],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert producer.returncode == 0, producer.stderr
        deadline = time.monotonic() + 60

        def delivered() -> bool:
            # The file appears before the worker has written it: wait for the whole message.
            files = list(mail_dir.iterdir()) if mail_dir.exists() else []
            return (
                bool(files)
                and "Subject:" in files[0].read_text()
                and files[0].read_text().rstrip().endswith("-")
            )

        while time.monotonic() < deadline and not delivered():
            time.sleep(0.5)
        files = list(mail_dir.iterdir()) if mail_dir.exists() else []
        assert len(files) == 1, "the worker did not deliver the email within 60 s"
        content = files[0].read_text()
        assert "Subject: Choose a new Relasi password" in content
        assert "To: ops@relasi.test" in content
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_hsts_is_short_and_limited_to_relasi_unless_the_operator_chooses(tmp_path: Path) -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SILENCED_SYSTEM_CHECKS)"
    )
    production = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "DJANGO_SETTINGS_MODULE": "config.settings"}

    def settings_with(extra: dict[str, str]) -> str:
        base = {key: value for key, value in os.environ.items() if key not in SETTINGS_UNDER_TEST}
        env = {**base, "RELASI_VAR_DIR": str(tmp_path), **production, **extra}
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert settings_with({}) == "3600 False False ['security.W005', 'security.W021']"
    chosen = {
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
    }
    assert settings_with(chosen) == "31536000 True True []"


def test_health_probes_answer_over_plain_http_in_production(tmp_path: Path) -> None:
    code = (
        "import django; django.setup(); from django.test import Client; c = Client(); "
        "print(c.get('/healthz').status_code, c.get('/readyz').status_code, c.get('/accounts/login/').status_code)"
    )
    base = {key: value for key, value in os.environ.items() if key not in SETTINGS_UNDER_TEST}
    env = {
        **base,
        "RELASI_VAR_DIR": str(tmp_path),
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "testserver",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # the probes answer (readyz: the database is reachable), everything else still goes to HTTPS
    assert result.stdout.strip() == "200 200 301"


def test_the_file_storage_takes_its_options_from_the_environment(tmp_path: Path) -> None:
    # given a storage class and its options (here Django's own, with a location of its own)
    files = tmp_path / "shared-files"
    code = (
        "import django; django.setup(); from django.core.files.base import ContentFile; "
        "from django.core.files.storage import default_storage as s; "
        "print(s.save('imports/a.csv', ContentFile(b'Nama')))"
    )
    base = {key: value for key, value in os.environ.items() if key not in SETTINGS_UNDER_TEST}
    env = {
        **base,
        "RELASI_VAR_DIR": str(tmp_path / "var"),
        "DEFAULT_FILE_STORAGE": "django.core.files.storage.FileSystemStorage",
        "FILE_STORAGE_OPTIONS": f'{{"location": "{files}"}}',
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    # then files are written where the options say
    assert result.returncode == 0, result.stderr
    assert (files / "imports" / "a.csv").read_bytes() == b"Nama"
    refused = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "FILE_STORAGE_OPTIONS": '["not", "an", "object"]'},
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1
    assert 'FILE_STORAGE_OPTIONS must be a JSON object, e.g. {"bucket_name": "relasi"}.' in refused.stderr
