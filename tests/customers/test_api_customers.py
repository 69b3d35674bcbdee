"""The customers API, /api/v1/customers: filters, paging, create (idempotent), read, update, delete, restore."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client

from relasi.accounts.models import User
from relasi.core.models import AuditLog, IdempotentRequest
from relasi.customers import services
from relasi.customers.models import ChannelIdentity, Customer
from relasi.customers.services import customer_create, customers_delete
from relasi.tenancy.models import Workspace

JAKARTA = ZoneInfo("Asia/Jakarta")
URL = "/api/v1/customers"


def add(
    workspace: Workspace, actor: User, full_name: str, *, at: datetime | None = None, **data: Any
) -> Customer:
    customer = customer_create(workspace=workspace, actor=actor, data={"full_name": full_name, **data})
    if at is not None:
        Customer.objects.for_workspace(workspace).filter(pk=customer.pk).update(updated_at=at)
        customer.refresh_from_db()
    return customer


def jakarta(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=JAKARTA)


def names(response: Any) -> list[str]:
    return [item["full_name"] for item in response.json()["items"]]


def snapshot(customer: Customer) -> dict[str, Any]:
    return dict(Customer.unscoped.filter(pk=customer.pk).values().get())


def problem(status: int, slug: str, title: str, detail: str = "", errors: dict[str, list[str]] | None = None):
    body: dict[str, Any] = {
        "type": f"https://relasi.dev/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    if errors:
        body["errors"] = errors
    return body


# --- List: filters ------------------------------------------------------------------------------------


def test_source_filter_keeps_the_chosen_channels(acme, alice, acme_key) -> None:
    # given customers on five channels (one without a source)
    add(acme, alice, "Wati WhatsApp", source="whatsapp", at=jakarta(2026, 3, 1, 10))
    add(acme, alice, "Ina Instagram", source="instagram", at=jakarta(2026, 3, 2, 10))
    add(acme, alice, "Tono Telegram", source="telegram", at=jakarta(2026, 3, 3, 10))
    add(acme, alice, "Eka Email", source="email", at=jakarta(2026, 3, 4, 10))
    add(acme, alice, "Nina Nosource", at=jakarta(2026, 3, 5, 10))
    client = Client()
    # when filtering by several channels, repeated or as a comma list
    repeated = client.get(URL, {"source": ["whatsapp", "instagram"]}, **acme_key)
    comma = client.get(URL, {"source": "whatsapp,telegram,email"}, **acme_key)
    # then only those channels come back, newest update first, with an exact total
    assert repeated.status_code == 200
    assert names(repeated) == ["Ina Instagram", "Wati WhatsApp"]
    assert repeated.json()["total"] == 2
    assert repeated.json()["total_is_estimate"] is False
    assert repeated.json()["next_cursor"] is None
    assert names(comma) == ["Eka Email", "Tono Telegram", "Wati WhatsApp"]
    assert comma.json()["total"] == 3


@pytest.fixture
def dated(acme, alice) -> None:
    """Customers updated on each side of the Jakarta day, week and month edges (Jakarta = UTC+7)."""
    for name, moment in [
        ("Feb End", jakarta(2026, 2, 28, 23, 59, 59)),
        ("Mar Start", jakarta(2026, 3, 1, 0, 0, 0)),
        ("Week Before", jakarta(2026, 3, 8, 23, 59, 59)),
        ("Week Start", jakarta(2026, 3, 9, 0, 0, 0)),
        ("Day Before", jakarta(2026, 3, 14, 23, 59, 59)),
        ("Day Start", jakarta(2026, 3, 15, 0, 0, 0)),
        ("Day End", jakarta(2026, 3, 15, 23, 59, 59)),
        ("Next Day", jakarta(2026, 3, 16, 0, 0, 0)),
        ("Mar End", jakarta(2026, 3, 31, 23, 59, 59)),
        ("Apr Start", jakarta(2026, 4, 1, 0, 0, 0)),
    ]:
        add(acme, alice, name, at=moment)


LAST_SECOND_OF_15_MARCH = jakarta(2026, 3, 15, 23, 59, 59)  # 16:59:59 UTC
FIRST_SECOND_OF_16_MARCH = jakarta(2026, 3, 16, 0, 0, 0)  # 17:00:00 UTC
EVERYONE = [
    "Apr Start",
    "Mar End",
    "Next Day",
    "Day End",
    "Day Start",
    "Day Before",
    "Week Start",
    "Week Before",
    "Mar Start",
    "Feb End",
]


@pytest.mark.parametrize(
    ("now", "params", "expected"),
    [
        (LAST_SECOND_OF_15_MARCH, {}, EVERYONE),
        (LAST_SECOND_OF_15_MARCH, {"date": "all"}, EVERYONE),
        (LAST_SECOND_OF_15_MARCH, {"date": "today"}, ["Day End", "Day Start"]),
        (FIRST_SECOND_OF_16_MARCH, {"date": "today"}, ["Next Day"]),
        (
            LAST_SECOND_OF_15_MARCH,
            {"date": "last7"},
            ["Day End", "Day Start", "Day Before", "Week Start"],
        ),
        (
            FIRST_SECOND_OF_16_MARCH,
            {"date": "last7"},
            ["Next Day", "Day End", "Day Start", "Day Before"],
        ),
        (LAST_SECOND_OF_15_MARCH, {"date": "day", "day": "2026-03-15"}, ["Day End", "Day Start"]),
        (
            LAST_SECOND_OF_15_MARCH,
            {"date": "month", "month": "2026-03"},
            [
                "Mar End",
                "Next Day",
                "Day End",
                "Day Start",
                "Day Before",
                "Week Start",
                "Week Before",
                "Mar Start",
            ],
        ),
        (
            LAST_SECOND_OF_15_MARCH,
            {"date": "custom", "from": "2026-03-09", "to": "2026-03-14"},
            ["Day Before", "Week Start"],
        ),
    ],
    ids=[
        "no-date",
        "all",
        "today-last-second",
        "today-first-second",
        "last7",
        "last7-next-day",
        "day",
        "month",
        "custom",
    ],
)
def test_date_filter_follows_the_jakarta_calendar(dated, acme_key, now, params, expected) -> None:
    # given customers on both sides of each edge, and the clock at an edge of the Jakarta day
    with time_machine.travel(now, tick=False):
        # when listing with the date filter
        response = Client().get(URL, params, **acme_key)
    # then exactly the customers inside the workspace-local range come back
    assert response.status_code == 200
    assert names(response) == expected
    assert response.json()["total"] == len(expected)


@pytest.fixture
def people(acme, alice) -> None:
    add(acme, alice, "Budi Santoso", phone="081234567890", email="budi@toko.test", at=jakarta(2026, 3, 1, 9))
    add(
        acme,
        alice,
        "Siti Rahayu",
        phone="+62 857-0000-1111",
        email="sr88@mail.test",
        at=jakarta(2026, 3, 2, 9),
    )
    add(acme, alice, "Santi Wijaya", email="santi@wijaya.test", at=jakarta(2026, 3, 3, 9))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("santo", ["Budi Santoso"]),
        ("SANT", ["Santi Wijaya", "Budi Santoso"]),
        ("0812345", ["Budi Santoso"]),
        ("081234567890", ["Budi Santoso"]),
        ("+62812345", ["Budi Santoso"]),
        ("+6285700001111", ["Siti Rahayu"]),
        ("sr88@mail", ["Siti Rahayu"]),
        ("SR88@MAIL.TEST", ["Siti Rahayu"]),
        ("nobody", []),
    ],
)
def test_search_matches_name_phone_in_both_forms_and_email(people, acme_key, q, expected) -> None:
    # when searching
    response = Client().get(URL, {"q": q}, **acme_key)
    # then the matching customers come back
    assert response.status_code == 200
    assert names(response) == expected
    assert response.json()["total"] == len(expected)


def test_list_item_has_every_field(acme, alice, bob, acme_key) -> None:
    # given a customer with every field
    with time_machine.travel(datetime(2026, 3, 1, 3, 4, 5, tzinfo=ZoneInfo("UTC")), tick=False):
        customer = add(
            acme,
            alice,
            "Budi Santoso",
            owner=alice.pk,
            assignee=bob.pk,
            source="instagram",
            channel_username="@BudiS",
            phone="0812-3456-7890",
            email="Budi@Toko.test",
            status="Lead",
            job_title="Owner",
            province="Jawa Barat",
            city="Bandung",
            district="Coblong",
            subdistrict="Dago",
            zip_code="40135",
        )
    # when listing
    response = Client().get(URL, **acme_key)
    # then the item holds every field, normalised
    assert response.json() == {
        "items": [
            {
                "id": customer.pk,
                "full_name": "Budi Santoso",
                "owner": {"id": alice.pk, "full_name": "Alice Owner"},
                "assignee": {"id": bob.pk, "full_name": "Bob Agent"},
                "source": "instagram",
                "phone": "+6281234567890",
                "phone_raw": "0812-3456-7890",
                "email": "budi@toko.test",
                "status": "Lead",
                "job_title": "Owner",
                "province": "Jawa Barat",
                "city": "Bandung",
                "district": "Coblong",
                "subdistrict": "Dago",
                "zip_code": "40135",
                "properties": {},
                "channel_identities": [{"channel": "instagram", "kind": "username", "external_id": "budis"}],
                "added_by": "Alice Owner",
                "created_at": "2026-03-01T03:04:05Z",
                "updated_at": "2026-03-01T03:04:05Z",
                "deleted_at": None,
            }
        ],
        "next_cursor": None,
        "previous_cursor": None,
        "position": 0,
        "total": 1,
        "total_is_estimate": False,
    }


# --- List: paging ---------------------------------------------------------------------------------------------


@pytest.fixture
def seven(acme, alice) -> dict[str, int]:
    """Seven customers; some share an update time and some share a name, so the id must break ties."""
    rows = [
        ("Dewi", jakarta(2026, 3, 5, 10)),
        ("Andi", jakarta(2026, 3, 5, 10)),
        ("Candra", jakarta(2026, 3, 4, 10)),
        ("Andi", jakarta(2026, 3, 3, 10)),
        ("Bayu", jakarta(2026, 3, 3, 10)),
        ("Eko", jakarta(2026, 3, 3, 10)),
        ("Fajar", jakarta(2026, 3, 1, 10)),
    ]
    return {
        f"{name}{index}": add(acme, alice, name, at=moment).pk for index, (name, moment) in enumerate(rows)
    }


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("recent", ["Andi1", "Dewi0", "Candra2", "Eko5", "Bayu4", "Andi3", "Fajar6"]),
        ("name", ["Andi1", "Andi3", "Bayu4", "Candra2", "Dewi0", "Eko5", "Fajar6"]),
        ("-name", ["Fajar6", "Eko5", "Dewi0", "Candra2", "Bayu4", "Andi3", "Andi1"]),
    ],
)
def test_keyset_paging_walks_every_row_exactly_once(seven, acme_key, sort, expected) -> None:
    client = Client()
    seen: list[int] = []
    cursors: list[str | None] = [None]
    # when following next_cursor with limit 3
    for _page in range(5):
        params: dict[str, Any] = {"sort": sort, "limit": 3}
        if cursors[-1]:
            params["cursor"] = cursors[-1]
        response = client.get(URL, params, **acme_key)
        assert response.status_code == 200
        assert response.json()["total"] == 7
        seen.extend(item["id"] for item in response.json()["items"])
        cursors.append(response.json()["next_cursor"])
        if cursors[-1] is None:
            break
    # then every row came exactly once, in the sort order, over pages of 3, 3 and 1
    assert seen == [seven[key] for key in expected]
    assert len(cursors) == 4


def test_previous_cursor_walks_back_to_the_first_page(seven, acme_key) -> None:
    client = Client()
    # given the three pages of the name sort, walked forwards
    forwards = [client.get(URL, {"sort": "name", "limit": 3}, **acme_key).json()]
    while forwards[-1]["next_cursor"]:
        params = {"sort": "name", "limit": 3, "cursor": forwards[-1]["next_cursor"]}
        forwards.append(client.get(URL, params, **acme_key).json())
    # when following previous_cursor from the last page
    backwards = [forwards[-1]]
    while backwards[-1]["previous_cursor"]:
        params = {"sort": "name", "limit": 3, "cursor": backwards[-1]["previous_cursor"]}
        backwards.append(client.get(URL, params, **acme_key).json())
    # then the same pages come back in reverse, with their positions, and the first has no previous page
    assert [[item["id"] for item in page["items"]] for page in backwards] == [
        [seven["Fajar6"]],
        [seven["Candra2"], seven["Dewi0"], seven["Eko5"]],
        [seven["Andi1"], seven["Andi3"], seven["Bayu4"]],
    ]
    assert [page["position"] for page in forwards] == [0, 3, 6]
    assert [page["position"] for page in backwards] == [6, 3, 0]
    assert forwards[0]["previous_cursor"] is None
    assert backwards[-1]["previous_cursor"] is None
    assert [page["total"] for page in backwards] == [7, 7, 7]


def test_a_tampered_cursor_is_a_400_problem(seven, acme_key) -> None:
    # given a real cursor with one character of its signed part changed
    cursor = Client().get(URL, {"limit": 2}, **acme_key).json()["next_cursor"]
    body, signature = cursor.split(".")
    tampered = f"{body[:-1]}{'A' if body[-1] != 'A' else 'B'}.{signature}"
    # when it is sent
    response = Client().get(URL, {"limit": 2, "cursor": tampered}, **acme_key)
    # then it is refused as a bad cursor, not followed
    assert response.status_code == 400
    assert response.json() == problem(
        400,
        "invalid-cursor",
        "The cursor is not valid.",
        "The cursor is not valid.",
        {"cursor": ["The cursor is not valid."]},
    )


def test_cursor_of_other_filters_is_a_400_problem(seven, acme_key) -> None:
    # given a cursor of the list searched for "a"
    cursor = Client().get(URL, {"q": "a", "limit": 2}, **acme_key).json()["next_cursor"]
    # when it is used without the search
    response = Client().get(URL, {"limit": 2, "cursor": cursor}, **acme_key)
    # then it is refused: its position belongs to the other list
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "cursor": ["The cursor belongs to another list (other filters): start again from the first page."]
    }


def test_deleted_view_lists_only_deleted_customers(acme, alice, acme_key) -> None:
    # given a live and a deleted customer
    add(acme, alice, "Still Here")
    gone = add(acme, alice, "Gone Away")
    customers_delete(workspace=acme, actor=alice, customer_ids=[gone.pk])
    # when listing the Deleted view and the default view
    deleted_view = Client().get(URL, {"deleted": "1"}, **acme_key)
    default_view = Client().get(URL, **acme_key)
    # then each shows its own
    assert names(deleted_view) == ["Gone Away"]
    assert deleted_view.json()["items"][0]["deleted_at"] is not None
    assert names(default_view) == ["Still Here"]


def test_invalid_cursor_is_a_400_problem(acme, alice, acme_key) -> None:
    add(acme, alice, "Andi")
    response = Client().get(URL, {"cursor": "not-a-cursor!"}, **acme_key)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == problem(
        400,
        "invalid-cursor",
        "The cursor is not valid.",
        "The cursor is not valid.",
        {"cursor": ["The cursor is not valid."]},
    )


def test_cursor_of_another_sort_is_a_400_problem(seven, acme_key) -> None:
    # given a cursor from the name sort
    by_name = Client().get(URL, {"sort": "name", "limit": 2}, **acme_key).json()["next_cursor"]
    # when it is used with the default (last update) sort
    response = Client().get(URL, {"cursor": by_name}, **acme_key)
    # then it is refused as a bad cursor
    assert response.status_code == 400
    assert response.json() == problem(
        400,
        "invalid-cursor",
        "The cursor is not valid.",
        "The cursor does not match this list's sort order.",
        {"cursor": ["The cursor does not match this list's sort order."]},
    )


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"source": "whatsapp,fax"}, {"source": ["Unknown channel: fax."]}),
        ({"date": "yesterday"}, {"date": ["Choose all, today, last7, day, month or custom."]}),
        ({"date": "day"}, {"day": ["Choose a day."]}),
        ({"date": "day", "day": "15/03/2026"}, {"day": ["Use a date like 2026-03-31."]}),
        ({"date": "month", "month": "2026-13"}, {"month": ["Use a month like 2026-03."]}),
        (
            {"date": "custom", "from": "2026-03-10", "to": "2026-03-01"},
            {"to": ["The last day is before the first day."]},
        ),
        ({"sort": "email"}, {"sort": ["Sort by recent, name or -name."]}),
        ({"limit": "0"}, {"limit": ["Use a whole number from 1 to 200."]}),
        ({"limit": "201"}, {"limit": ["Use a whole number from 1 to 200."]}),
        (
            {"limit": "ten", "source": "fax"},
            {"limit": ["Use a whole number from 1 to 200."], "source": ["Unknown channel: fax."]},
        ),
    ],
)
def test_invalid_filter_is_a_400_problem_naming_the_parameter(acme_key, params, errors) -> None:
    response = Client().get(URL, params, **acme_key)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == problem(
        400,
        "invalid-filter",
        "The filters are not valid.",
        "One or more query parameters are not valid; see errors.",
        errors,
    )


# --- Create ---------------------------------------------------------------------------------------------------


def post(client: Client, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(URL, body, content_type="application/json", **headers)


def test_create_returns_201_with_the_customer_and_audits(acme, alice, bob, acme_key) -> None:
    # when an integration creates a customer
    response = post(
        Client(),
        {
            "full_name": "  Budi Santoso ",
            "owner_id": alice.pk,
            "assignee_id": bob.pk,
            "source": "whatsapp",
            "channel_username": "081234567890",
            "phone": "081234567890",
            "email": "BUDI@toko.test",
            "status": "Prospect",
            "city": "Bandung",
        },
        acme_key,
    )
    # then it exists, normalised, added by the key
    assert response.status_code == 201
    body = response.json()
    customer = Customer.objects.for_workspace(acme).get()
    assert body["id"] == customer.pk
    assert body["full_name"] == "Budi Santoso"
    assert body["owner"] == {"id": alice.pk, "full_name": "Alice Owner"}
    assert body["assignee"] == {"id": bob.pk, "full_name": "Bob Agent"}
    assert body["phone"] == "+6281234567890"
    assert body["phone_raw"] == "081234567890"
    assert body["email"] == "budi@toko.test"
    assert body["status"] == "Prospect"
    assert body["city"] == "Bandung"
    assert body["added_by"] == "API: CRM sync"
    assert body["channel_identities"] == [
        {"channel": "whatsapp", "kind": "username", "external_id": "081234567890"}
    ]
    log = AuditLog.objects.get(action="customer.created")
    assert log.workspace == acme
    assert log.target_id == str(customer.pk)
    assert log.actor_label.endswith("(CRM sync)")


def test_create_with_invalid_fields_is_a_422_per_field_and_creates_nothing(acme, charlie, acme_key) -> None:
    response = post(
        Client(),
        {
            "full_name": " ",
            "owner_id": charlie.pk,
            "source": "fax",
            "phone": "12",
            "email": "not-an-email",
            "status": "Married",
            "zip_code": "12345678901",
            "properties": {"shoe_size": 42},
        },
        acme_key,
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == problem(
        422,
        "validation",
        "The request is not valid.",
        "One or more fields are not valid; see errors.",
        {
            "full_name": ["Full name is required."],
            "owner_id": ["Choose a member of this workspace."],
            "source": [
                "“fax” is not a channel. Use one of: whatsapp, instagram, facebook, telegram, line, livechat, "
                "email, tiktok, other."
            ],
            "phone": ["“12” is not a valid phone number."],
            "email": ["“not-an-email” is not an email address."],
            "status": ["“Married” is not one of the statuses: Lead, Prospect, Customer, Inactive."],
            "zip_code": ["At most 10 characters."],
            "properties.shoe_size": ["There is no property with the key “shoe_size”."],
        },
    )
    assert Customer.objects.for_workspace(acme).count() == 0
    assert not AuditLog.objects.filter(action="customer.created").exists()


def test_create_without_a_name_or_with_wrong_types_is_a_422(acme, acme_key) -> None:
    response = post(Client(), {"phone": "081234567890", "owner_id": "someone"}, acme_key)
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "full_name": ["Field required"],
        "owner_id": ["Input should be a valid integer"],
    }
    assert Customer.objects.for_workspace(acme).count() == 0


def test_same_channel_username_as_another_customer_is_refused(acme, alice, acme_key) -> None:
    # given a customer known on Instagram as @budi
    first = add(acme, alice, "Budi Santoso", source="instagram", channel_username="budi")
    # when another customer is created with the same channel and username (other spelling)
    response = post(
        Client(), {"full_name": "Budi Lain", "source": "instagram", "channel_username": "@Budi"}, acme_key
    )
    # then it is refused as a conflict with the data (the same request is fine in another workspace): nothing
    # is created
    assert response.status_code == 409
    assert response.json()["errors"] == {
        "channel_username": ["Another customer already uses this Instagram username."]
    }
    assert list(Customer.objects.for_workspace(acme).values_list("pk", flat=True)) == [first.pk]
    # and the same username on another channel is fine
    other = post(
        Client(), {"full_name": "Budi Lain", "source": "telegram", "channel_username": "budi"}, acme_key
    )
    assert other.status_code == 201


def test_idempotent_create_returns_the_first_result(acme, alice, acme_key) -> None:
    client = Client()
    body = {"full_name": "Budi Santoso", "phone": "081234567890"}
    headers = {**acme_key, "HTTP_IDEMPOTENCY_KEY": "order-42"}
    # when the same request is sent twice with the same key
    first = post(client, body, headers)
    with time_machine.travel(datetime(2030, 1, 1, tzinfo=ZoneInfo("UTC")), tick=False):
        second = post(client, body, headers)
    # then one customer exists and the repeat gets the same status and body
    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json() == first.json()
    assert Customer.objects.for_workspace(acme).count() == 1
    assert AuditLog.objects.filter(action="customer.created").count() == 1
    stored = IdempotentRequest.unscoped.get()
    assert (stored.workspace, stored.key, stored.status_code) == (acme, "order-42", 201)
    assert stored.response_body["id"] == first.json()["id"]


def test_same_idempotency_key_with_another_body_is_a_409(acme, alice, acme_key) -> None:
    client = Client()
    headers = {**acme_key, "HTTP_IDEMPOTENCY_KEY": "order-42"}
    post(client, {"full_name": "Budi Santoso"}, headers)
    # when the key is reused for a different customer
    response = post(client, {"full_name": "Siti Rahayu"}, headers)
    # then it is refused and only the first customer exists
    assert response.status_code == 409
    assert response.json() == problem(
        409,
        "idempotency-key-reused",
        "This Idempotency-Key was used for a different request.",
        "Send a new Idempotency-Key for a different body.",
        {"Idempotency-Key": ["Already used with another body."]},
    )
    assert list(Customer.objects.for_workspace(acme).values_list("full_name", flat=True)) == ["Budi Santoso"]


def test_refused_create_is_not_remembered_under_its_idempotency_key(acme, acme_key) -> None:
    client = Client()
    headers = {**acme_key, "HTTP_IDEMPOTENCY_KEY": "order-42"}
    # given a first attempt refused as invalid
    refused = post(client, {"full_name": "Budi", "phone": "12"}, headers)
    assert refused.status_code == 422
    assert IdempotentRequest.unscoped.count() == 0
    # when the fixed body is sent with the same key
    fixed = post(client, {"full_name": "Budi", "phone": "081234567890"}, headers)
    # then it is created
    assert fixed.status_code == 201
    assert Customer.objects.for_workspace(acme).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_with_one_key_create_one_customer(acme, acme_key, monkeypatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("two requests overlapping in separate transactions need a server database")
    body = {"full_name": "Budi Santoso"}
    headers = {**acme_key, "HTTP_IDEMPOTENCY_KEY": "order-42"}
    claimed, release = threading.Event(), threading.Event()
    real_create = services.customer_create

    def slow_create(**kwargs: Any) -> Customer:
        # The first request has claimed the key (uncommitted) and now waits inside its transaction.
        claimed.set()
        release.wait(10)
        return real_create(**kwargs)

    monkeypatch.setattr(services, "customer_create", slow_create)
    responses: dict[str, Any] = {}

    def send(name: str) -> None:
        try:
            responses[name] = post(Client(), body, headers)
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert claimed.wait(10)
    # given the first request in flight, when the repeat arrives
    second = threading.Thread(target=send, args=("second",))
    second.start()
    second.join(0.5)
    # then the repeat waits on the key's unique constraint instead of creating a second customer
    assert second.is_alive()
    release.set()
    first.join(10)
    second.join(10)
    assert (responses["first"].status_code, responses["second"].status_code) == (201, 201)
    assert responses["second"].json() == responses["first"].json()
    assert Customer.objects.for_workspace(acme).count() == 1


def test_idempotency_keys_are_per_workspace(acme, globex, acme_key, globex_key) -> None:
    body = {"full_name": "Budi Santoso"}
    first = post(Client(), body, {**acme_key, "HTTP_IDEMPOTENCY_KEY": "same"})
    other = post(Client(), body, {**globex_key, "HTTP_IDEMPOTENCY_KEY": "same"})
    assert (first.status_code, other.status_code) == (201, 201)
    assert first.json()["id"] != other.json()["id"]
    assert Customer.objects.for_workspace(acme).count() == 1
    assert Customer.objects.for_workspace(globex).count() == 1


def test_idempotency_key_longer_than_200_characters_is_a_422(acme, acme_key) -> None:
    response = post(Client(), {"full_name": "Budi"}, {**acme_key, "HTTP_IDEMPOTENCY_KEY": "k" * 201})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["Idempotency-Key"]
    assert Customer.objects.for_workspace(acme).count() == 0


# --- Read, update, delete, restore --------------------------------------------------------------------------


def test_read_returns_the_customer(acme, alice, acme_key) -> None:
    customer = add(acme, alice, "Budi Santoso", email="budi@toko.test")
    response = Client().get(f"{URL}/{customer.pk}", **acme_key)
    assert response.status_code == 200
    assert response.json()["id"] == customer.pk
    assert response.json()["email"] == "budi@toko.test"
    assert Client().get(f"{URL}/{customer.pk + 1000}", **acme_key).status_code == 404


def test_patch_changes_only_the_fields_sent(acme, alice, bob, acme_key) -> None:
    # given a customer with several fields
    customer = add(
        acme,
        alice,
        "Budi Santoso",
        owner=alice.pk,
        phone="081234567890",
        email="budi@toko.test",
        job_title="Owner",
        city="Bandung",
        at=jakarta(2026, 3, 1, 9),
    )
    before = snapshot(customer)
    # when patching the job title and the assignee
    with time_machine.travel(jakarta(2026, 3, 2, 9), tick=False):
        response = Client().patch(
            f"{URL}/{customer.pk}",
            {"job_title": "Director", "assignee_id": bob.pk},
            content_type="application/json",
            **acme_key,
        )
    # then only those fields (and the last update) changed
    assert response.status_code == 200
    after = snapshot(customer)
    changed = {field for field in before if before[field] != after[field]}
    assert changed == {"job_title", "assignee_id", "updated_at"}
    assert after["job_title"] == "Director"
    assert after["updated_at"] == jakarta(2026, 3, 2, 9)
    assert response.json()["assignee"] == {"id": bob.pk, "full_name": "Bob Agent"}
    assert response.json()["owner"] == {"id": alice.pk, "full_name": "Alice Owner"}
    assert response.json()["city"] == "Bandung"
    assert response.json()["updated_at"] == "2026-03-02T02:00:00Z"
    log = AuditLog.objects.get(action="customer.updated")
    assert log.changes == {"job_title": ["Owner", "Director"], "assignee": [None, bob.pk]}


def test_patch_can_clear_a_field_with_null(acme, alice, acme_key) -> None:
    customer = add(acme, alice, "Budi Santoso", owner=alice.pk, email="budi@toko.test")
    response = Client().patch(
        f"{URL}/{customer.pk}", {"owner_id": None, "email": ""}, content_type="application/json", **acme_key
    )
    assert response.status_code == 200
    assert (response.json()["owner"], response.json()["email"]) == (None, "")


def test_patch_with_invalid_fields_is_a_422_and_changes_nothing(acme, alice, charlie, acme_key) -> None:
    customer = add(acme, alice, "Budi Santoso", phone="081234567890")
    before = snapshot(customer)
    response = Client().patch(
        f"{URL}/{customer.pk}",
        {"full_name": "", "assignee_id": charlie.pk, "phone": "abc"},
        content_type="application/json",
        **acme_key,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "full_name": ["Full name is required."],
        "assignee_id": ["Choose a member of this workspace."],
        "phone": ["“abc” is not a phone number."],
    }
    assert snapshot(customer) == before


def test_delete_then_restore(acme, alice, acme_key) -> None:
    client = Client()
    customer = add(acme, alice, "Budi Santoso")
    # when deleted
    deleted = client.delete(f"{URL}/{customer.pk}", **acme_key)
    # then it is gone from reads and writes, but kept
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert Customer.objects.for_workspace(acme).get(pk=customer.pk).deleted_at is not None
    assert client.get(f"{URL}/{customer.pk}", **acme_key).status_code == 404
    patched = client.patch(
        f"{URL}/{customer.pk}", {"full_name": "X"}, content_type="application/json", **acme_key
    )
    assert patched.status_code == 404
    assert client.delete(f"{URL}/{customer.pk}", **acme_key).status_code == 404
    # when restored
    restored = client.post(f"{URL}/{customer.pk}/restore", **acme_key)
    # then it is back, unchanged
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None
    assert restored.json()["full_name"] == "Budi Santoso"
    assert client.get(f"{URL}/{customer.pk}", **acme_key).status_code == 200
    assert list(
        AuditLog.objects.filter(target_type="customers.customer", target_id=str(customer.pk))
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["customer.created", "customer.deleted", "customer.restored"]
    # and restoring a live customer changes nothing
    again = client.post(f"{URL}/{customer.pk}/restore", **acme_key)
    assert again.status_code == 200
    assert AuditLog.objects.filter(action="customer.restored").count() == 1
    assert client.post(f"{URL}/{customer.pk + 1000}/restore", **acme_key).status_code == 404


# --- Tenancy and session auth -----------------------------------------------------------------------------------


def test_outsider_key_gets_404_and_changes_nothing(acme, alice, globex_key) -> None:
    # given a live and a deleted customer of acme
    live = add(acme, alice, "Budi Santoso", source="instagram", channel_username="budi")
    gone = add(acme, alice, "Siti Rahayu")
    customers_delete(workspace=acme, actor=alice, customer_ids=[gone.pk])
    before = {live.pk: snapshot(live), gone.pk: snapshot(gone)}
    audit_count = AuditLog.objects.count()
    client = Client()
    not_found = problem(404, "not-found", "Not found.")
    # when globex's key tries every operation on them
    for customer in (live, gone):
        responses = [
            client.get(f"{URL}/{customer.pk}", **globex_key),
            client.patch(
                f"{URL}/{customer.pk}", {"full_name": "Hacked"}, content_type="application/json", **globex_key
            ),
            client.delete(f"{URL}/{customer.pk}", **globex_key),
            client.post(f"{URL}/{customer.pk}/restore", **globex_key),
        ]
        # then each is a 404 problem
        assert [response.status_code for response in responses] == [404, 404, 404, 404]
        assert all(response.json() == not_found for response in responses)
    # and nothing changed, nothing is listed, nothing was audited
    assert {live.pk: snapshot(live), gone.pk: snapshot(gone)} == before
    assert client.get(URL, **globex_key).json()["items"] == []
    assert client.get(URL, {"deleted": "1"}, **globex_key).json()["items"] == []
    assert AuditLog.objects.count() == audit_count
    # and acme's channel identity does not block globex
    created = post(
        client, {"full_name": "Budi G", "source": "instagram", "channel_username": "budi"}, globex_key
    )
    assert created.status_code == 201
    assert ChannelIdentity.unscoped.filter(external_id="budi").count() == 2


def test_session_auth_with_x_workspace(acme, globex, alice, bob, charlie, client_for) -> None:
    customer = add(acme, alice, "Budi Santoso")
    # owner and agent of acme list and write acme's customers
    for user in (alice, bob):
        client = client_for(user)
        listed = client.get(URL, HTTP_X_WORKSPACE="acme")
        assert listed.status_code == 200
        assert names(listed)[-1] == "Budi Santoso"
        created = client.post(
            URL,
            {"full_name": f"By {user.full_name}"},
            content_type="application/json",
            HTTP_X_WORKSPACE="acme",
        )
        assert created.status_code == 201
        assert created.json()["added_by"] == user.full_name
        own = created.json()["id"]
        patched = client.patch(
            f"{URL}/{own}", {"job_title": "Buyer"}, content_type="application/json", HTTP_X_WORKSPACE="acme"
        )
        assert (patched.status_code, patched.json()["job_title"]) == (200, "Buyer")
        assert client.delete(f"{URL}/{own}", HTTP_X_WORKSPACE="acme").status_code == 204
        assert client.post(f"{URL}/{own}/restore", HTTP_X_WORKSPACE="acme").status_code == 200
        assert client.get(f"{URL}/{customer.pk}", HTTP_X_WORKSPACE="acme").status_code == 200
    assert list(
        AuditLog.objects.filter(action__startswith="customer.", actor=bob).values_list("action", flat=True)
    ) == ["customer.restored", "customer.deleted", "customer.updated", "customer.created"]
    # the outsider cannot use acme at all, and his own workspace does not reach acme's customer
    outsider = client_for(charlie)
    before = snapshot(customer)
    audit_before = AuditLog.objects.count()
    assert outsider.get(URL, HTTP_X_WORKSPACE="acme").status_code == 404
    assert outsider.get(f"{URL}/{customer.pk}", HTTP_X_WORKSPACE="acme").status_code == 404
    assert outsider.delete(f"{URL}/{customer.pk}", HTTP_X_WORKSPACE="acme").status_code == 404
    in_acme = [
        outsider.post(
            URL, {"full_name": "Planted"}, content_type="application/json", HTTP_X_WORKSPACE="acme"
        ),
        outsider.patch(
            f"{URL}/{customer.pk}",
            {"full_name": "Hacked"},
            content_type="application/json",
            HTTP_X_WORKSPACE="acme",
        ),
        outsider.post(f"{URL}/{customer.pk}/restore", HTTP_X_WORKSPACE="acme"),
    ]
    assert [response.status_code for response in in_acme] == [404, 404, 404]
    assert outsider.get(URL).status_code == 401  # no workspace named: not authenticated for any
    assert outsider.get(URL, HTTP_X_WORKSPACE="globex").json()["items"] == []
    assert outsider.get(f"{URL}/{customer.pk}", HTTP_X_WORKSPACE="globex").status_code == 404
    assert outsider.delete(f"{URL}/{customer.pk}", HTTP_X_WORKSPACE="globex").status_code == 404
    hacked = outsider.patch(
        f"{URL}/{customer.pk}",
        {"full_name": "Hacked"},
        content_type="application/json",
        HTTP_X_WORKSPACE="globex",
    )
    assert hacked.status_code == 404
    assert snapshot(customer) == before
    assert Customer.objects.for_workspace(acme).count() == 3
    assert Customer.objects.for_workspace(globex).count() == 0
    assert AuditLog.objects.count() == audit_before


def test_no_credentials_is_a_401(acme, alice) -> None:
    customer = add(acme, alice, "Budi Santoso")
    assert Client().get(URL).status_code == 401
    assert Client().delete(f"{URL}/{customer.pk}").status_code == 401
    assert Customer.objects.for_workspace(acme).get(pk=customer.pk).deleted_at is None


# --- OpenAPI -------------------------------------------------------------------------------------------------


def test_openapi_lists_every_customer_endpoint_with_its_responses(db) -> None:
    spec = Client().get("/api/v1/openapi.json").json()
    problem_ref = {"$ref": "#/components/schemas/ProblemOut"}
    # every endpoint may answer 401 (no key) and 429 (over the rate limit); one with a body 400 (not JSON), 413
    # (too large) and 422 (not valid), one with query parameters 400; 409 where the data can refuse a request
    body = {"400", "413", "422"}
    expected = {
        ("/api/v1/customers", "get"): {"200", "400", "401", "429"},
        ("/api/v1/customers", "post"): {"201", "401", "409", "429", *body},
        ("/api/v1/customers/{customer_id}", "get"): {"200", "401", "404", "429"},
        ("/api/v1/customers/{customer_id}", "patch"): {"200", "401", "404", "409", "429", *body},
        ("/api/v1/customers/{customer_id}", "delete"): {"204", "401", "404", "429"},
        ("/api/v1/customers/{customer_id}/restore", "post"): {"200", "401", "404", "429"},
        ("/api/v1/customer-properties", "get"): {"200", "400", "401", "429"},
        ("/api/v1/customer-properties", "post"): {"201", "401", "403", "409", "429", *body},
        ("/api/v1/customer-properties/{property_id}", "patch"): {
            "200",
            "401",
            "403",
            "404",
            "409",
            "429",
            *body,
        },
        ("/api/v1/customer-properties/{property_id}/archive", "post"): {
            "200",
            "401",
            "403",
            "404",
            "409",
            "429",
        },
        ("/api/v1/customer-properties/{property_id}/restore", "post"): {
            "200",
            "401",
            "403",
            "404",
            "409",
            "429",
        },
    }
    for (path, method), statuses in expected.items():
        responses = spec["paths"][path][method]["responses"]
        assert set(responses) == statuses, (path, method)
        for status in statuses:
            if status.startswith("4"):
                assert responses[status]["content"] == {"application/problem+json": {"schema": problem_ref}}
    listed = spec["paths"]["/api/v1/customers"]["get"]
    assert [parameter["name"] for parameter in listed["parameters"]] == [
        "source",
        "date",
        "day",
        "month",
        "from",
        "to",
        "q",
        "sort",
        "deleted",
        "cursor",
        "limit",
    ]
    assert listed["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CustomerListOut"
    }
    create_headers = [p["name"] for p in spec["paths"]["/api/v1/customers"]["post"]["parameters"]]
    assert create_headers == ["Idempotency-Key"]
    assert set(spec["components"]["schemas"]["CustomerOut"]["properties"]) == {
        "id",
        "full_name",
        "owner",
        "assignee",
        "source",
        "phone",
        "phone_raw",
        "email",
        "status",
        "job_title",
        "province",
        "city",
        "district",
        "subdistrict",
        "zip_code",
        "properties",
        "channel_identities",
        "added_by",
        "created_at",
        "updated_at",
        "deleted_at",
    }
