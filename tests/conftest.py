"""Shared fixtures. The cast, as in every test: alice owns workspace "acme", dave is an admin there, bob is
an agent there, charlie owns another workspace ("globex") and is an outsider to acme. `acme_key` and
`globex_key` are API keys of the two workspaces, as request headers for Django's test client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from relasi.accounts.models import User
from relasi.tenancy.models import Membership, Role, Workspace
from relasi.tenancy.services import api_key_create, workspace_create, workspace_set_agents_bulk_actions

PASSWORD = "Str0ng!Passw0rd"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # Rate-limit counters live in the cache; ids repeat between tests on SQLite.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    # A page asked in Indonesian leaves Indonesian active in the thread (LocaleMiddleware does not switch back), and
    # what a later test creates would be in it (a workspace's status options, for one).
    yield
    translation.deactivate()


def make_user(email: str, full_name: str, **extra: object) -> User:
    return User.objects.create_user(email, PASSWORD, full_name=full_name, **extra)


@pytest.fixture
def alice(db) -> User:
    return make_user("alice@acme.test", "Alice Owner")


@pytest.fixture
def bob(db) -> User:
    return make_user("bob@acme.test", "Bob Agent")


@pytest.fixture
def dave(db) -> User:
    return make_user("dave@acme.test", "Dave Admin")


@pytest.fixture
def charlie(db) -> User:
    return make_user("charlie@globex.test", "Charlie Outsider")


@pytest.fixture
def acme(alice: User, bob: User, dave: User) -> Workspace:
    workspace = workspace_create(name="Acme Indonesia", slug="acme", owner=alice, actor=alice)
    Membership.objects.create(workspace=workspace, user=bob, role=Role.AGENT)
    Membership.objects.create(workspace=workspace, user=dave, role=Role.ADMIN)
    return workspace


@pytest.fixture
def agents_may_bulk(acme: Workspace, alice: User) -> Workspace:
    """acme, where the owner lets agents import, export and delete in bulk."""
    return workspace_set_agents_bulk_actions(workspace=acme, actor=alice, allowed=True)


@pytest.fixture
def globex(charlie: User) -> Workspace:
    return workspace_create(name="Globex", slug="globex", owner=charlie, actor=charlie)


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def acme_key(acme: Workspace, alice: User) -> dict[str, str]:
    return bearer(api_key_create(workspace=acme, actor=alice, name="CRM sync").token)


@pytest.fixture
def globex_key(globex: Workspace, charlie: User) -> dict[str, str]:
    return bearer(api_key_create(workspace=globex, actor=charlie, name="Globex sync").token)


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def build(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return build
