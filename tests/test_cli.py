from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from relasi.accounts.models import User
from relasi.billing.checks import ledger_drifts
from relasi.billing.models import Invoice
from relasi.billing.selectors import balances_of
from relasi.cli import beat_argv, gunicorn_argv, main, worker_argv
from relasi.customers.models import Customer, PossibleDuplicate
from relasi.interactions.kinds import kind_spec
from relasi.interactions.models import Message, WhatsAppChannel
from relasi.partners.models import Lead, Partner, Program
from relasi.tenancy.models import ApiKey, Membership, Workspace


def test_demo_data_is_idempotent(db) -> None:
    call_command("demo", customers=25, stdout=io.StringIO())
    call_command("demo", customers=25, stdout=io.StringIO())
    workspace = Workspace.objects.get(slug="demo")
    assert sorted(User.objects.values_list("email", flat=True)) == [
        "agent@relasi.test",
        "owner@relasi.test",
        "partner@relasi.test",
        "staff@relasi.test",
    ]
    assert sorted(Membership.objects.for_workspace(workspace).values_list("user__email", "role")) == [
        ("agent@relasi.test", "agent"),
        ("owner@relasi.test", "owner"),
    ]
    # the 25 asked for, and the WhatsApp contact of the pair of possible duplicates
    assert Customer.objects.for_workspace(workspace).count() == 26
    assert Partner.objects.get().code == "RPDEMO01"
    # the demo partner's program and a lead in every stage
    assert sorted(Lead.objects.values_list("stage", flat=True)) == ["in_process", "lost", "new", "won"]
    assert Program.objects.count() == 1
    assert User.objects.get(email="staff@relasi.test").is_staff is True
    # interactions of every kind on the first customers, made once, and one pair to merge
    counts = {
        kind: kind_spec(kind).model.objects.for_workspace(workspace).count()
        for kind in ("conversation", "campaign", "company", "ticket", "deal", "task")
    }
    assert counts == {"conversation": 12, "campaign": 2, "company": 2, "ticket": 6, "deal": 4, "task": 4}
    assert Message.objects.for_workspace(workspace).count() == 36
    assert PossibleDuplicate.objects.for_workspace(workspace).filter(dismissed_at__isnull=True).count() == 1
    # and one connected WhatsApp number
    assert list(
        WhatsAppChannel.objects.for_workspace(workspace).values_list("phone_number_id", flat=True)
    ) == ["100000000002026"]
    # and this month's balances, WhatsApp below 40% of its period, written once
    balances = balances_of(workspace=workspace)
    assert (balances["whatsapp"].amount, balances["whatsapp"].period_total) == (375_000, 1_000_000)
    # the month's allowance of visitors, and 500 more from a paid top-up
    assert balances["muv"].period_total == 5_500
    # and a paid and an expired invoice, each through the sandbox's callbacks
    assert sorted(Invoice.objects.for_workspace(workspace).values_list("status", "amount")) == [
        ("expired", 1_110_000),
        ("paid", 333_000),
    ]
    assert ledger_drifts() == []


def test_demo_prints_its_sign_in_links_at_the_site_address(db, settings) -> None:
    settings.RELASI_SITE_URL = "https://crm.toko.test/"
    out = io.StringIO()
    call_command("demo", customers=1, stdout=out)
    assert "  Workspace app:   https://crm.toko.test/accounts/login/\n" in out.getvalue()
    assert "  Partner portal:  https://crm.toko.test/partners/login/\n" in out.getvalue()
    assert "  Back-office:     https://crm.toko.test/backoffice/\n" in out.getvalue()


def test_demo_refuses_a_production_installation(db, settings) -> None:
    settings.RELASI_PRODUCTION = True
    with pytest.raises(CommandError, match="The demo accounts share a password printed in the README"):
        call_command("demo", customers=1, stdout=io.StringIO())
    assert not User.objects.exists()
    call_command("demo", customers=1, allow_production=True, stdout=io.StringIO())
    assert User.objects.filter(email="owner@relasi.test").exists()


def test_demo_sign_ins_work(db) -> None:
    call_command("demo", customers=5, stdout=io.StringIO())
    for email, door in (
        ("owner@relasi.test", "/accounts/login/"),
        ("partner@relasi.test", "/partners/login/"),
        ("staff@relasi.test", "/backoffice/login/"),
    ):
        response = Client().post(door, {"username": email, "password": "Relasi#2026"})
        assert response.status_code == 302, email


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch) -> None:
    # run_from_argv closes every connection when a command ends (the process would exit); inside a test
    # that would close the connection holding the test's transaction (PostgreSQL).
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)


def test_relasi_api_key_create_prints_the_token_once(acme, capsys) -> None:
    main(["api-key", "create", "--workspace", "acme", "--name", "Website form"])
    captured = capsys.readouterr()
    token = captured.out.strip()
    key = ApiKey.objects.for_workspace(acme).get()
    assert token.startswith(f"rls_{key.prefix}_")
    assert key.name == "Website form"
    assert "shown only this once" in captured.err
    assert Client().get("/api/v1/workspace", HTTP_AUTHORIZATION=f"Bearer {token}").json()["slug"] == "acme"


def test_relasi_api_key_create_for_an_unknown_workspace_fails(db) -> None:
    with pytest.raises(CommandError, match=re.escape("No workspace with the slug 'nope'.")):
        call_command("api_key", "create", "--workspace", "nope", "--name", "x")
    assert not ApiKey.unscoped.exists()


def test_relasi_passes_other_commands_to_django(db, capsys) -> None:
    main(["check"])
    assert "System check identified no issues" in capsys.readouterr().out


# The long-running commands exec a tool of Relasi's own environment; what they exec is built by a function.

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_relasi_worker_runs_celery_of_its_own_environment_without_beat() -> None:
    argv = worker_argv(["--concurrency", "4"])
    assert argv[:3] == [sys.executable, "-m", "celery"]
    assert argv[3:] == ["-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "4"]
    assert "--beat" not in argv and "-B" not in argv


@pytest.mark.parametrize("flag", ["--beat", "-B"])
def test_relasi_worker_refuses_to_embed_beat(flag: str) -> None:
    with pytest.raises(SystemExit, match=re.escape("run `relasi beat` as its own process")):
        worker_argv([flag])


def test_relasi_beat_keeps_its_schedule_under_the_var_dir(tmp_path: Path) -> None:
    argv = beat_argv([], tmp_path)
    assert argv[:3] == [sys.executable, "-m", "celery"]
    assert argv[3:6] == ["-A", "config", "beat"]
    assert argv[argv.index("--schedule") + 1] == str(tmp_path / "celerybeat-schedule")
    # a second beat with the same RELASI_VAR_DIR is refused while the first lives
    assert argv[argv.index("--pidfile") + 1] == str(tmp_path / "celerybeat.pid")


def test_relasi_serve_prod_runs_gunicorn_of_its_own_environment() -> None:
    assert gunicorn_argv(["0.0.0.0:9000"], {"WEB_CONCURRENCY": "5"}) == [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        "0.0.0.0:9000",
        "--workers",
        "5",
        "--access-logfile",
        "-",
        "--no-control-socket",
    ]
    assert gunicorn_argv([], {"BIND": "127.0.0.1:8100"})[4:8] == [
        "--bind",
        "127.0.0.1:8100",
        "--workers",
        "3",
    ]


def _relasi_without_its_bin_on_path(tmp_path: Path, *arguments: str, **environment: str) -> str:
    assert (BIN / "relasi").exists(), "the relasi command is installed next to this Python (make setup)"
    path = os.pathsep.join(
        folder for folder in os.environ.get("PATH", "").split(os.pathsep) if Path(folder) != BIN
    )
    cleared = ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "RELASI_VAR_DIR", "TZ", "TIME_ZONE")
    env = {key: value for key, value in os.environ.items() if key not in cleared}
    result = subprocess.run(
        [str(BIN / "relasi"), *arguments],
        cwd=tmp_path,
        env={**env, "PATH": path, "RELASI_VAR_DIR": str(tmp_path / "var"), **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_relasi_worker_and_beat_start_celery_without_its_bin_on_path(tmp_path: Path) -> None:
    assert "celery worker" in _relasi_without_its_bin_on_path(tmp_path, "worker", "--help")
    assert "celery beat" in _relasi_without_its_bin_on_path(tmp_path, "beat", "--help")


class _Execd(Exception):
    pass


@pytest.mark.parametrize("command", [["serve", "--prod", "127.0.0.1:9000"], ["worker"], ["beat"]])
def test_the_long_running_commands_run_in_the_operators_time_zone(command, settings, monkeypatch) -> None:
    # gunicorn's master never loads the settings, so Django never sets TZ there: relasi exports it first.
    monkeypatch.setenv("TZ", "UTC")
    settings.TIME_ZONE = "Asia/Makassar"
    execd: list[tuple[str, list[str], str]] = []

    def execv(path: str, argv: list[str]) -> None:
        execd.append((path, argv, os.environ["TZ"]))
        raise _Execd

    monkeypatch.setattr(os, "execv", execv)
    with pytest.raises(_Execd):
        main(command)
    [(path, argv, tz)] = execd
    assert path == sys.executable
    assert argv[2] in ("gunicorn", "celery")
    assert tz == "Asia/Makassar"
