from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from relasi.accounts.models import User
from relasi.cli import main
from relasi.customers.models import Customer
from relasi.partners.models import Partner
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
    assert Customer.objects.for_workspace(workspace).count() == 25
    assert Partner.objects.get().code == "RPDEMO01"
    assert User.objects.get(email="staff@relasi.test").is_staff is True


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
