from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from relasi.customers.filters import customer_filters_parse
from relasi.customers.models import Channel, Customer, CustomerView
from relasi.customers.selectors import customer_queryset

# 2026-03-15 10:00 in Jakarta (UTC+7) = 03:00 UTC.
NOW = datetime(2026, 3, 15, 3, 0, tzinfo=UTC)


def list_url(slug: str = "acme") -> str:
    return reverse("customers:list", kwargs={"workspace_slug": slug})


def names(workspace, **params) -> list[str]:
    with time_machine.travel(NOW, tick=False):
        filters = customer_filters_parse(params)
        return sorted(
            customer_queryset(workspace=workspace, filters=filters).values_list("full_name", flat=True)
        )


@pytest.fixture
def dated(acme, make_customer):
    # Edges of the Jakarta calendar: 17:00 UTC is midnight in Jakarta.
    make_customer(acme, "Before today", updated_at=datetime(2026, 3, 14, 16, 59, 59, tzinfo=UTC))
    make_customer(acme, "Start of today", updated_at=datetime(2026, 3, 14, 17, 0, tzinfo=UTC))
    make_customer(acme, "Now", updated_at=NOW)
    make_customer(acme, "Start of last7", updated_at=datetime(2026, 3, 8, 17, 0, tzinfo=UTC))
    make_customer(acme, "Just before last7", updated_at=datetime(2026, 3, 8, 16, 59, 59, tzinfo=UTC))
    make_customer(acme, "Last second of February", updated_at=datetime(2026, 2, 28, 16, 59, 59, tzinfo=UTC))
    make_customer(acme, "First second of March", updated_at=datetime(2026, 2, 28, 17, 0, tzinfo=UTC))


def test_today_is_the_jakarta_day(dated, acme) -> None:
    assert names(acme, date="today") == ["Now", "Start of today"]


def test_last_seven_days_start_at_jakarta_midnight_six_days_ago(dated, acme) -> None:
    assert names(acme, date="last7") == ["Before today", "Now", "Start of last7", "Start of today"]


def test_a_given_day(dated, acme) -> None:
    assert names(acme, date="day", day="2026-03-14") == ["Before today"]


def test_a_given_month_uses_jakarta_month_edges(dated, acme) -> None:
    assert names(acme, date="month", month="2026-02") == ["Last second of February"]
    assert "First second of March" in names(acme, date="month", month="2026-03")
    assert "Last second of February" not in names(acme, date="month", month="2026-03")


def test_custom_range_includes_both_days(dated, acme) -> None:
    assert names(acme, date="custom", **{"from": "2026-03-01", "to": "2026-03-09"}) == [
        "First second of March",
        "Just before last7",
        "Start of last7",
    ]
    assert names(acme, date="custom", **{"from": "2026-03-01", "to": "2026-03-08"}) == [
        "First second of March",
        "Just before last7",
    ]


def test_source_filter_with_several_channels(acme, make_customer) -> None:
    make_customer(acme, "Wa", source=Channel.WHATSAPP)
    make_customer(acme, "Ig", source=Channel.INSTAGRAM)
    make_customer(acme, "Tg", source=Channel.TELEGRAM)
    assert names(acme, source=["whatsapp", "instagram"]) == ["Ig", "Wa"]
    assert names(acme, source="telegram,whatsapp") == ["Tg", "Wa"]


def test_search_by_part_of_name_phone_in_both_forms_and_email(acme, make_customer) -> None:
    make_customer(acme, "Budi Santoso", phone="+6281234567890", email="budi@toko.id")
    make_customer(acme, "Siti Rahma", phone="+6285711112222", email="siti@contoh.id")
    assert names(acme, q="santo") == ["Budi Santoso"]
    assert names(acme, q="BUDI") == ["Budi Santoso"]
    assert names(acme, q="081234") == ["Budi Santoso"]
    assert names(acme, q="0812-3456-7890") == ["Budi Santoso"]
    assert names(acme, q="+6285711") == ["Siti Rahma"]
    assert names(acme, q="contoh.id") == ["Siti Rahma"]


def test_the_page_filters_and_the_htmx_fragment(acme, alice, client_for, make_customer) -> None:
    make_customer(acme, "Budi Santoso", source=Channel.WHATSAPP)
    make_customer(acme, "Siti Rahma", source=Channel.EMAIL)
    page = client_for(alice).get(list_url(), {"source": "whatsapp"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "Budi Santoso" in body and "Siti Rahma" not in body
    fragment = client_for(alice).get(
        list_url(), {"q": "siti"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="customer-table"
    )
    assert fragment.content.decode().lstrip().startswith('<div id="customer-table"')
    assert "Siti Rahma" in fragment.content.decode()
    assert "1 customer" in fragment.content.decode()


def test_bad_filters_say_what_is_wrong(acme, alice, client_for) -> None:
    page = client_for(alice).get(list_url(), {"date": "custom", "from": "2026-03-10", "to": "2026-03-01"})
    assert page.status_code == 400
    assert "The last day is before the first day." in page.content.decode()
    assert "Unknown channel: fax." in client_for(alice).get(list_url(), {"source": "fax"}).content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"date": "month", "month": "9999-12"},
        {"date": "day", "day": "9999-12-31"},
        {"date": "day", "day": "0001-01-01"},
        {"date": "day", "day": "3000-01-01"},
        {"date": "custom", "from": "0001-01-01", "to": "2026-01-01"},
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_refused_not_failed(acme, alice, client_for, params) -> None:
    page = client_for(alice).get(list_url(), params)
    assert page.status_code == 400
    assert "Choose a year from 1900 to 2999." in page.content.decode()
    api = client_for(alice).get("/api/v1/customers", params, HTTP_X_WORKSPACE="acme")
    assert api.status_code == 400
    assert "Choose a year from 1900 to 2999." in str(api.json()["errors"])


def test_a_cursor_holding_values_of_the_wrong_type_is_a_clear_error(acme, alice, client_for) -> None:
    from relasi.core.pagination import cursor_encode

    page = client_for(alice).get(list_url(), {"cursor": cursor_encode(["abc", 1])})
    assert page.status_code == 400
    assert "This page link is no longer valid. Start again from the first page." in page.content.decode()


def test_paging_is_by_cursor_and_reaches_every_row_once(
    acme, alice, client_for, make_customer, settings
) -> None:
    from relasi.customers import selectors

    for number in range(7):
        make_customer(
            acme, f"Customer {number}", updated_at=datetime(2026, 3, 1, tzinfo=UTC)
        )  # same time: id breaks ties
    seen: list[str] = []
    cursor = None
    while True:
        page = selectors.customer_page(
            workspace=acme, filters=customer_filters_parse({}), cursor=cursor, limit=3
        )
        seen.extend(customer.full_name for customer in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"Customer {number}" for number in reversed(range(7))]


@pytest.mark.parametrize(("member", "shown"), [("alice", True), ("dave", True), ("bob", False)])
def test_the_edit_customer_properties_link_is_for_owners_and_admins(
    acme, member, shown, request, client_for
) -> None:
    # when a member opens the list, then "More actions" links to the Properties menu for those who may use it
    page = client_for(request.getfixturevalue(member)).get(list_url())
    assert page.status_code == 200
    link = '<a class="dropdown-item" href="/app/acme/customers/properties/">Edit customer properties</a>'
    assert (link in page.content.decode()) is shown


def test_an_agent_saves_their_own_view_and_no_one_elses(acme, alice, bob, client_for) -> None:
    # given the owner's saved view
    client_for(alice).post(
        reverse("customers:view_update", kwargs={"workspace_slug": "acme"}), {"columns": ["email"]}
    )
    # when the agent saves theirs
    response = client_for(bob).post(
        reverse("customers:view_update", kwargs={"workspace_slug": "acme"}),
        {"columns": ["phone", "status"], "next": list_url()},
    )
    # then it is the agent's alone
    assert (response.status_code, response["Location"]) == (302, list_url())
    assert dict(CustomerView.objects.for_workspace(acme).values_list("user__email", "columns")) == {
        "alice@acme.test": ["email"],
        "bob@acme.test": ["phone", "status"],
    }


def test_manage_view_persists_per_user_and_keeps_name_first(acme, alice, bob, client_for) -> None:
    response = client_for(alice).post(
        reverse("customers:view_update", kwargs={"workspace_slug": "acme"}),
        {"columns": ["email", "full_name", "status", "bogus", "email"], "next": list_url()},
    )
    assert response.status_code == 302
    assert CustomerView.objects.for_workspace(acme).get(user=alice).columns == ["email", "status"]
    alice_page = client_for(alice).get(list_url()).content.decode()
    headers = [part.split('"')[0] for part in alice_page.split('data-column="')[1:]]
    assert headers == ["full_name", "email", "status"]
    bob_page = client_for(bob).get(list_url()).content.decode()
    assert [part.split('"')[0] for part in bob_page.split('data-column="')[1:]] == [
        "full_name",
        "source",
        "phone",
        "email",
        "updated_at",
        "added_by",
    ]


def test_delete_one_then_restore_from_deleted(acme, alice, client_for, make_customer) -> None:
    from relasi.core.models import AuditLog

    customer = make_customer(acme, "Budi")
    client = client_for(alice)
    client.post(reverse("customers:delete", kwargs={"workspace_slug": "acme"}), {"ids": [customer.pk]})
    customer.refresh_from_db()
    assert customer.deleted_at is not None
    assert "Budi" not in client.get(list_url()).content.decode()
    assert "Budi" in client.get(list_url(), {"deleted": "1"}).content.decode()
    client.post(reverse("customers:restore", kwargs={"workspace_slug": "acme"}), {"ids": [customer.pk]})
    customer.refresh_from_db()
    assert customer.deleted_at is None
    assert list(
        AuditLog.objects.filter(target_type="customers.customer", target_id=str(customer.pk))
        .values_list("action", flat=True)
        .order_by("id")
    ) == [
        "customer.deleted",
        "customer.restored",
    ]


@pytest.mark.parametrize("member", ["alice", "dave"])
def test_delete_many(acme, member, request, client_for, make_customer) -> None:
    first, second, kept = (make_customer(acme, name) for name in ("A", "B", "C"))
    client_for(request.getfixturevalue(member)).post(
        reverse("customers:delete", kwargs={"workspace_slug": "acme"}), {"ids": [first.pk, second.pk]}
    )
    assert sorted(
        Customer.objects.for_workspace(acme)
        .filter(deleted_at__isnull=False)
        .values_list("full_name", flat=True)
    ) == ["A", "B"]
    kept.refresh_from_db()
    assert kept.deleted_at is None


def test_an_agent_deletes_one_customer_and_restores_it(acme, bob, client_for, make_customer) -> None:
    # given a customer, when an agent deletes it alone (no bulk permission needed), then it goes to Deleted
    customer = make_customer(acme, "Budi")
    agent = client_for(bob)
    deleted = agent.post(
        reverse("customers:delete", kwargs={"workspace_slug": "acme"}), {"ids": [customer.pk]}
    )
    assert (deleted.status_code, deleted["Location"]) == (302, list_url())
    customer.refresh_from_db()
    assert customer.deleted_at is not None
    # when the agent restores it, then it is back
    restored = agent.post(
        reverse("customers:restore", kwargs={"workspace_slug": "acme"}), {"ids": [customer.pk]}
    )
    assert (restored.status_code, restored["Location"]) == (302, list_url())
    customer.refresh_from_db()
    assert customer.deleted_at is None


def test_past_30_days_a_deleted_customer_is_not_listed_nor_restored(
    acme, alice, client_for, make_customer
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from relasi.core.models import AuditLog

    # given one customer deleted just over 30 days ago (waiting for the purge) and one 29 days ago
    expired_at = timezone.now() - timedelta(days=30, minutes=1)
    expired = make_customer(acme, "Expired", deleted_at=expired_at)
    make_customer(acme, "Recent", deleted_at=timezone.now() - timedelta(days=29))
    client = client_for(alice)
    # then the Deleted view lists only what can still come back
    deleted_view = client.get(list_url(), {"deleted": "1"}).content.decode()
    assert "Recent" in deleted_view and "Expired" not in deleted_view
    # and restoring the expired one changes nothing
    audit_before = AuditLog.objects.count()
    response = client.post(
        reverse("customers:restore", kwargs={"workspace_slug": "acme"}), {"ids": [expired.pk]}, follow=True
    )
    assert (
        "The selected customers cannot be restored: they are not deleted, or were deleted more than 30 days ago."
        in (response.content.decode())
    )
    expired.refresh_from_db()
    assert expired.deleted_at == expired_at
    assert AuditLog.objects.count() == audit_before


def test_ids_the_database_cannot_hold_match_nothing(acme, alice, client_for, make_customer) -> None:
    kept = make_customer(acme, "Kept")
    response = client_for(alice).post(
        reverse("customers:delete", kwargs={"workspace_slug": "acme"}), {"ids": ["9" * 30, str(kept.pk + 1)]}
    )
    assert response.status_code == 302
    kept.refresh_from_db()
    assert kept.deleted_at is None


def test_purge_removes_only_customers_deleted_more_than_30_days_ago(acme, make_customer) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from relasi.customers.tasks import customers_purge_deleted_task

    old = make_customer(acme, "Old", deleted_at=timezone.now() - timedelta(days=30, minutes=1))
    recent = make_customer(acme, "Recent", deleted_at=timezone.now() - timedelta(days=29))
    live = make_customer(acme, "Live")
    assert customers_purge_deleted_task.delay().get() == 1
    assert set(Customer.objects.for_workspace(acme).values_list("pk", flat=True)) == {recent.pk, live.pk}
    assert not Customer.unscoped.filter(pk=old.pk).exists()


@pytest.mark.parametrize(
    ("method", "name", "kwargs"),
    [
        ("get", "customers:list", {}),
        ("get", "customers:new", {}),
        ("post", "customers:new", {}),
        ("get", "customers:detail", {"customer_id": 0}),
        ("post", "customers:detail", {"customer_id": 0}),
        ("post", "customers:delete", {}),
        ("post", "customers:restore", {}),
        ("post", "customers:view_update", {}),
        ("post", "customers:export", {}),
    ],
)
def test_outsider_gets_404_and_nothing_changes(
    method, name, kwargs, acme, globex, charlie, client_for, make_customer
) -> None:
    from relasi.core.models import AuditLog

    customer = make_customer(acme, "Budi", deleted_at=None)
    kwargs = {**kwargs, "workspace_slug": "acme"}
    if "customer_id" in kwargs:
        kwargs["customer_id"] = customer.pk
    audit_before = AuditLog.objects.count()
    response = getattr(client_for(charlie), method)(
        reverse(name, kwargs=kwargs), {"ids": [customer.pk], "full_name": "Hacked", "columns": ["email"]}
    )
    assert response.status_code == 404
    customer.refresh_from_db()
    assert (customer.full_name, customer.deleted_at) == ("Budi", None)
    assert Customer.objects.for_workspace(acme).count() == 1
    assert not CustomerView.unscoped.exists()
    assert AuditLog.objects.count() == audit_before


def test_a_customer_of_another_workspace_is_404_even_for_a_member_elsewhere(
    acme, globex, alice, client_for, make_customer
) -> None:
    other = make_customer(globex, "Globex customer")
    response = client_for(alice).get(
        reverse("customers:detail", kwargs={"workspace_slug": "acme", "customer_id": other.pk})
    )
    assert response.status_code == 404
    client_for(alice).post(
        reverse("customers:delete", kwargs={"workspace_slug": "acme"}), {"ids": [other.pk]}
    )
    other.refresh_from_db()
    assert other.deleted_at is None
