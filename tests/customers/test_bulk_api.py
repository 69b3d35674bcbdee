"""The bulk actions API: prepare with the count, confirm with the value and the count, progress, undo; another
workspace's key gets 404, a session agent 403 for a bulk delete, and nothing changes."""

from __future__ import annotations

import json

import pytest
from django.urls import Resolver404, resolve

from relasi.customers.bulk.models_bulk import BulkJob
from relasi.customers.models import Channel, Customer

BASE = "/api/v1/customers/bulk-jobs"


@pytest.fixture(autouse=True)
def _bulk_api_registered() -> None:
    # The router is registered in relasi/api/router.py; until then (see /work/notes/bulk.md) these tests skip.
    try:
        match = resolve(BASE)
    except Resolver404:
        match = None
    if match is None or match.url_name != "bulk_job_create":
        pytest.skip("relasi.customers.bulk.api.router is not registered in relasi/api/router.py yet")


def _post(client, path: str, body: dict, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def many(acme, make_customer) -> list[Customer]:
    budis = [make_customer(acme, f"Budi {number:03d}", source=Channel.WHATSAPP) for number in range(120)]
    for number in range(5):
        make_customer(acme, f"Sari {number}", source=Channel.INSTAGRAM)
    return budis


def _live(acme):
    return Customer.objects.for_workspace(acme).filter(deleted_at__isnull=True)


def test_prepare_confirm_and_read_a_bulk_assignment(
    acme, dave, client, acme_key, many, django_capture_on_commit_callbacks
) -> None:
    # Given an API key of acme
    # When it prepares an owner assignment of every WhatsApp customer
    response = _post(client, BASE, {"action": "owner", "filters": {"source": ["whatsapp"]}}, **acme_key)
    # Then the draft states the count
    assert response.status_code == 201
    draft = response.json()
    assert (draft["status"], draft["total"], draft["processed"]) == ("draft", 120, 0)
    # When it confirms that count with dave as the owner
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            client, f"{BASE}/{draft['id']}/confirm", {"value": dave.pk, "expected_total": 120}, **acme_key
        )
    # Then it is accepted, and once run (after the commit) its progress says done and the 120 have dave
    assert response.status_code == 200
    assert (response.json()["total"], response.json()["value"]) == (120, dave.pk)
    body = client.get(f"{BASE}/{draft['id']}", **acme_key).json()
    assert (body["status"], body["processed"], body["changed_count"]) == ("completed", 120, 120)
    assert _live(acme).filter(owner=dave).count() == 120


def test_bulk_delete_by_ids_then_undo(
    acme, client, acme_key, many, django_capture_on_commit_callbacks
) -> None:
    ids = [customer.pk for customer in many[:3]]
    draft = _post(client, BASE, {"action": "delete", "ids": ids}, **acme_key).json()
    assert draft["total"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, f"{BASE}/{draft['id']}/confirm", {"expected_total": 3}, **acme_key)
    assert _live(acme).count() == 122
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, f"{BASE}/{draft['id']}/undo", {}, **acme_key)
    assert response.status_code == 201
    assert (response.json()["action"], response.json()["total"], response.json()["undo_of_id"]) == (
        "restore",
        3,
        draft["id"],
    )
    assert _live(acme).count() == 125


def test_a_stale_count_is_a_409_and_changes_nothing(acme, client, acme_key, many) -> None:
    draft = _post(client, BASE, {"action": "delete", "filters": {"source": ["whatsapp"]}}, **acme_key).json()
    response = _post(client, f"{BASE}/{draft['id']}/confirm", {"expected_total": 100}, **acme_key)
    assert response.status_code == 409
    assert response.json()["errors"] == {"count": ["The selection holds 120 customers: confirm that count."]}
    assert _live(acme).count() == 125


def test_a_value_refused_by_the_customer_rules_is_a_422(acme, client, acme_key, many) -> None:
    draft = _post(client, BASE, {"action": "status", "filters": {"q": "Sari"}}, **acme_key).json()
    response = _post(client, f"{BASE}/{draft['id']}/confirm", {"value": "Champion"}, **acme_key)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["value"]
    assert _live(acme).filter(status="Champion").count() == 0


def test_neither_ids_nor_filters_is_a_422(acme, client, acme_key, many) -> None:
    response = _post(client, BASE, {"action": "delete"}, **acme_key)
    assert response.status_code == 422
    assert not BulkJob.objects.for_workspace(acme).exists()


def test_another_workspaces_key_gets_404_and_nothing_changes(
    acme, client, acme_key, globex_key, many
) -> None:
    draft = _post(client, BASE, {"action": "delete", "filters": {"source": ["whatsapp"]}}, **acme_key).json()
    assert client.get(f"{BASE}/{draft['id']}", **globex_key).status_code == 404
    assert _post(client, f"{BASE}/{draft['id']}/confirm", {}, **globex_key).status_code == 404
    assert _post(client, f"{BASE}/{draft['id']}/undo", {}, **globex_key).status_code == 404
    # ...and acme's ids select nothing in globex
    response = _post(client, BASE, {"action": "delete", "ids": [many[0].pk]}, **globex_key)
    assert response.status_code == 422
    assert _live(acme).count() == 125


def test_a_session_agent_is_refused_a_bulk_delete(acme, bob, client_for, many) -> None:
    client = client_for(bob)
    response = _post(
        client, BASE, {"action": "delete", "filters": {"source": ["whatsapp"]}}, HTTP_X_WORKSPACE="acme"
    )
    assert response.status_code == 403
    assert not BulkJob.objects.for_workspace(acme).exists()
    assert _live(acme).count() == 125


def test_without_a_key_it_is_401(acme, client, many) -> None:
    assert _post(client, BASE, {"action": "delete", "filters": {}}).status_code == 401
    assert _live(acme).count() == 125


def test_an_edit_confirmed_without_value_is_a_422_naming_it(acme, alice, client, acme_key, many) -> None:
    # Given the 5 Instagram customers owned by alice, and a prepared owner assignment of them
    _live(acme).update(owner=alice)
    draft = _post(client, BASE, {"action": "owner", "filters": {"source": ["instagram"]}}, **acme_key).json()
    # When it is confirmed without `value`
    response = _post(client, f"{BASE}/{draft['id']}/confirm", {"expected_total": 5}, **acme_key)
    # Then it is a 422 naming `value`; the job is still a draft and alice still owns all 125
    assert response.status_code == 422
    assert response.json()["errors"] == {"value": ["Send `value`: the new value, or null to clear it."]}
    assert BulkJob.objects.for_workspace(acme).get().status == "draft"
    assert _live(acme).filter(owner=alice).count() == 125
    # ...and an empty string is no clear either
    response = _post(client, f"{BASE}/{draft['id']}/confirm", {"value": "", "expected_total": 5}, **acme_key)
    assert response.status_code == 422
    assert response.json()["errors"] == {"value": ["Choose the owner to give these customers."]}
    assert _live(acme).filter(owner=alice).count() == 125


def test_a_null_value_clears_on_purpose(
    acme, alice, client, acme_key, globex_key, many, django_capture_on_commit_callbacks
) -> None:
    # Given the 5 Instagram customers owned by alice, and a prepared owner assignment of them
    _live(acme).update(owner=alice)
    draft = _post(client, BASE, {"action": "owner", "filters": {"source": ["instagram"]}}, **acme_key).json()
    # When another workspace's key sends the clear, then it is not found and nothing changes
    response = _post(
        client, f"{BASE}/{draft['id']}/confirm", {"value": None, "expected_total": 5}, **globex_key
    )
    assert response.status_code == 404
    assert _live(acme).filter(owner=alice).count() == 125
    # When acme's key confirms with `value: null`
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            client, f"{BASE}/{draft['id']}/confirm", {"value": None, "expected_total": 5}, **acme_key
        )
    # Then the 5 have no owner any more, the 120 keep alice
    assert response.status_code == 200
    assert (response.json()["value"], response.json()["total"]) == (None, 5)
    body = client.get(f"{BASE}/{draft['id']}", **acme_key).json()
    assert (body["status"], body["changed_count"]) == ("completed", 5)
    assert _live(acme).filter(source=Channel.INSTAGRAM, owner__isnull=True).count() == 5
    assert _live(acme).filter(owner=alice).count() == 120


def test_a_session_agent_must_send_the_value_too(acme, bob, client_for, many) -> None:
    client = client_for(bob)
    draft = _post(
        client, BASE, {"action": "status", "filters": {"source": ["instagram"]}}, HTTP_X_WORKSPACE="acme"
    ).json()
    response = _post(client, f"{BASE}/{draft['id']}/confirm", {}, HTTP_X_WORKSPACE="acme")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["value"]
    assert BulkJob.objects.for_workspace(acme).get().status == "draft"
