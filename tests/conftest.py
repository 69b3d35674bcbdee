"""Shared fixtures. The cast, as in every test: alice owns workspace "acme", bob is an agent there,
charlie owns another workspace ("globex") and is an outsider to acme."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from relasi.accounts.models import User
from relasi.tenancy.models import Membership, Role, Workspace
from relasi.tenancy.services import workspace_create

PASSWORD = "Str0ng!Passw0rd"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def make_user(email: str, full_name: str, **extra: object) -> User:
    return User.objects.create_user(email, PASSWORD, full_name=full_name, **extra)


@pytest.fixture
def alice(db) -> User:
    return make_user("alice@acme.test", "Alice Owner")


@pytest.fixture
def bob(db) -> User:
    return make_user("bob@acme.test", "Bob Agent")


@pytest.fixture
def charlie(db) -> User:
    return make_user("charlie@globex.test", "Charlie Outsider")


@pytest.fixture
def acme(alice: User, bob: User) -> Workspace:
    workspace = workspace_create(name="Acme Indonesia", slug="acme", owner=alice, actor=alice)
    Membership.objects.create(user=bob, workspace=workspace, role=Role.AGENT)
    return workspace


@pytest.fixture
def globex(charlie: User) -> Workspace:
    return workspace_create(name="Globex", slug="globex", owner=charlie, actor=charlie)


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def build(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return build
