"""The "Possible duplicates" page and API: members (owner, agent) list the open pairs and dismiss them, audited; an
outsider gets a 404 and changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from relasi.core.models import AuditLog
from relasi.customers.identity import Identifiers, customer_resolve
from relasi.customers.models import ChannelIdentity, PossibleDuplicate, TimelineEntry

pytestmark = pytest.mark.django_db

API = "/api/v1/customers/duplicates"


@pytest.fixture
def pair(acme, make_customer) -> PossibleDuplicate:
    """Budi (WhatsApp id) and Sari (phone), flagged by one event that carried both."""
    budi = make_customer(acme, "Budi Santoso", source="whatsapp")
    ChannelIdentity.objects.create(
        workspace=acme, customer=budi, channel="whatsapp", kind="id", external_id="ID.1"
    )
    make_customer(acme, "Sari Ginting", phone="+6281398765432", email="sari@mail.id")
    customer_resolve(
        workspace=acme,
        actor=None,
        identifiers=Identifiers(channel="whatsapp", external_id="ID.1", phone="081398765432"),
    )
    return PossibleDuplicate.objects.for_workspace(acme).select_related("customer_low", "customer_high").get()


def page_url(slug: str = "acme") -> str:
    return f"/app/{slug}/customers/duplicates/"


def dismiss_url(pair: PossibleDuplicate, slug: str = "acme") -> str:
    return f"/app/{slug}/customers/duplicates/{pair.pk}/dismiss/"


@pytest.mark.parametrize("member", ["alice", "bob"])
def test_owner_and_agent_see_the_pair_and_dismiss_it(request, client_for, pair, member) -> None:
    user = request.getfixturevalue(member)
    client = client_for(user)
    # given the customers list links to the page
    assert page_url() in client.get("/app/acme/customers/").content.decode()
    # when the member opens the page
    response = client.get(page_url())
    # then the pair is listed with the reason and links to both customers
    assert response.status_code == 200
    html = response.content.decode()
    assert "Budi Santoso" in html and "Sari Ginting" in html
    assert f"/app/acme/customers/{pair.customer_low_id}/" in html
    assert f"/app/acme/customers/{pair.customer_high_id}/" in html
    assert "Phone number" in html
    assert 'data-testid="dismiss-' in html
    # when they say "Not a duplicate"
    response = client.post(dismiss_url(pair))
    # then the pair is dismissed by them, audited, on both timelines, and the page is empty
    assert (response.status_code, response["Location"]) == (302, page_url())
    pair.refresh_from_db()
    assert (pair.dismissed_by_id, pair.dismissed_by_label) == (user.pk, user.email)
    audit = AuditLog.objects.get(action="customer.duplicate_dismissed")
    assert (audit.target_id, audit.actor_label) == (str(pair.pk), user.email)
    lines = TimelineEntry.objects.for_workspace(pair.workspace).filter(action="duplicate.dismissed")
    assert sorted(lines.values_list("customer_id", flat=True)) == [
        pair.customer_low_id,
        pair.customer_high_id,
    ]
    assert 'data-testid="no-duplicates"' in client.get(page_url()).content.decode()


def test_an_outsider_gets_404_and_nothing_changes(client_for, charlie, globex, pair) -> None:
    client = client_for(charlie)
    audit_count = AuditLog.objects.count()
    # when charlie (globex) opens acme's page, posts a dismiss there, or tries acme's pair from his own workspace
    responses = [
        client.get(page_url()).status_code,
        client.post(dismiss_url(pair)).status_code,
        client.post(dismiss_url(pair, "globex")).status_code,
    ]
    # then each is a 404 and the pair stays open
    assert responses == [404, 404, 404]
    pair.refresh_from_db()
    assert pair.dismissed_at is None
    assert AuditLog.objects.count() == audit_count


def test_the_page_refuses_a_dismiss_by_get(client_for, alice, pair) -> None:
    assert client_for(alice).get(dismiss_url(pair)).status_code == 405


def test_api_lists_open_pairs_and_dismisses_one(acme_key, pair) -> None:
    client = Client()
    # when the key lists the pairs
    body = client.get(API, **acme_key).json()
    # then the pair comes with both customers, lower id first, and the reason
    assert body == {
        "items": [
            {
                "id": pair.pk,
                "customers": [
                    {
                        "id": pair.customer_low_id,
                        "full_name": "Budi Santoso",
                        "phone": "",
                        "email": "",
                        "deleted_at": None,
                    },
                    {
                        "id": pair.customer_high_id,
                        "full_name": "Sari Ginting",
                        "phone": "+6281398765432",
                        "email": "sari@mail.id",
                        "deleted_at": None,
                    },
                ],
                "reason": "phone",
                "created_at": body["items"][0]["created_at"],
                "dismissed_at": None,
            }
        ],
        "next_cursor": None,
        "previous_cursor": None,
        "position": 0,
    }
    # when the key dismisses it, twice
    first = client.post(f"{API}/{pair.pk}/dismiss", **acme_key)
    second = client.post(f"{API}/{pair.pk}/dismiss", **acme_key)
    # then both answer the dismissed pair, one audit row is written, and the list is empty
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["dismissed_at"] is not None
    assert first.json()["dismissed_at"] == second.json()["dismissed_at"]
    assert AuditLog.objects.filter(action="customer.duplicate_dismissed").count() == 1
    assert client.get(API, **acme_key).json()["items"] == []


def test_api_pages_with_a_cursor(acme, acme_key, make_customer) -> None:
    # given three pairs
    for number in range(3):
        first = make_customer(acme, f"A{number}", email=f"a{number}@mail.id")
        make_customer(acme, f"B{number}", phone=f"+62813111100{number}0")
        customer_resolve(
            workspace=acme,
            actor=None,
            identifiers=Identifiers(email=first.email, phone=f"+62813111100{number}0"),
        )
    client = Client()
    # when read two at a time
    first_page = client.get(API, {"limit": 2}, **acme_key).json()
    second_page = client.get(API, {"limit": 2, "cursor": first_page["next_cursor"]}, **acme_key).json()
    # then the three pairs come once each, newest first
    ids = [item["id"] for item in first_page["items"] + second_page["items"]]
    assert ids == sorted(
        PossibleDuplicate.objects.for_workspace(acme).values_list("id", flat=True), reverse=True
    )
    assert (second_page["next_cursor"], second_page["position"]) == (None, 2)
    # and a made-up cursor is a 400 problem
    response = client.get(API, {"cursor": "nonsense"}, **acme_key)
    assert (response.status_code, response["Content-Type"]) == (400, "application/problem+json")


def test_api_outsider_gets_404_and_nothing_changes(client_for, charlie, globex_key, pair) -> None:
    client = Client()
    audit_count = AuditLog.objects.count()
    # when globex's key lists and dismisses acme's pair, and charlie's session names acme
    listed = client.get(API, **globex_key).json()
    dismissed = client.post(f"{API}/{pair.pk}/dismiss", **globex_key)
    session = client_for(charlie)
    by_session = session.post(f"{API}/{pair.pk}/dismiss", HTTP_X_WORKSPACE="acme")
    # then globex sees no pairs, both dismisses are 404, and the pair stays open
    assert listed["items"] == []
    assert (dismissed.status_code, by_session.status_code) == (404, 404)
    pair.refresh_from_db()
    assert pair.dismissed_at is None
    assert AuditLog.objects.count() == audit_count
