"""Amounts in rupiah (issue 9 item 3): a "currency" property holds whole rupiah as a JSON integer. It is read as
the viewer's language writes it (`Rp 1.500.000`, `1.500.000`, `1,500,000`, `1500000`), shown `Rp 1.500.000` in
pages, and kept plain in the API and exports; an amount with decimals is refused, never rounded.

alice owns acme, bob is an agent there, charlie is an outsider (tests/conftest.py).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from relasi.accounts.models import User
from relasi.core.formatting import format_money
from relasi.core.models import AuditLog
from relasi.customers.bulk.services import bulk_job_confirm, bulk_job_prepare
from relasi.customers.filters import customer_filters_parse
from relasi.customers.models import Customer, PropertyDefinition, PropertyKind
from relasi.customers.properties import clean_property_value
from relasi.customers.property_services import property_create
from relasi.customers.services import customer_create
from relasi.tenancy.models import Workspace

CUSTOMERS = "/api/v1/customers"


@pytest.fixture
def price(acme: Workspace, alice: User) -> PropertyDefinition:
    return property_create(workspace=acme, actor=alice, label="Harga", key="harga", kind="currency")


def client_in(user: User, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return client


def url(name: str, **kwargs: Any) -> str:
    return reverse(f"customers:{name}", kwargs={"workspace_slug": "acme", **kwargs})


def stored(workspace: Workspace) -> list[dict[str, Any]]:
    return list(Customer.objects.for_workspace(workspace).order_by("id").values_list("properties", flat=True))


# --- Reading an amount ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "written"),
    [
        ("id", "Rp 1.500.000"),
        ("id", "Rp1.500.000"),
        ("id", "Rp. 1.500.000"),
        ("id", "1.500.000"),
        ("id", "1.500.000,00"),
        ("id", "1500000"),
        ("en", "Rp 1,500,000"),
        ("en", "1,500,000"),
        ("en", "1,500,000.00"),
        ("en", "1500000"),
        ("plain", "1500000"),
        ("plain", 1_500_000),
        ("plain", 1_500_000.0),
    ],
)
def test_an_amount_is_read_as_whole_rupiah(price, style: str, written: Any) -> None:
    amount = clean_property_value(price, written, number_style=style)
    assert amount == 1_500_000
    assert type(amount) is int


def test_a_negative_amount_is_read_as_pages_show_it(price) -> None:
    assert clean_property_value(price, "-Rp 5.000", number_style="id") == -5000


@given(amount=st.integers(min_value=-999_999_999_999_999, max_value=999_999_999_999_999))
def test_an_amount_shown_by_a_page_reads_back_as_the_same_amount_in_both_languages(amount: int) -> None:
    # an unsaved definition: reading a value touches no database
    definition = PropertyDefinition(key="harga", label="Harga", kind=PropertyKind.CURRENCY)
    for language in ("id", "en"):
        with translation.override(language):
            shown = format_money(amount)
        assert clean_property_value(definition, shown, number_style=language) == amount


@pytest.mark.parametrize(
    ("style", "written", "code", "message"),
    [
        (
            "id",
            "2,5",
            "currency",
            "“2,5” is not a whole number of rupiah: write it without decimals, like Rp 1.500.000.",
        ),
        (
            "id",
            "Rp 1.500.000,50",
            "currency",
            "“Rp 1.500.000,50” is not a whole number of rupiah: write it without decimals, like Rp 1.500.000.",
        ),
        (
            "en",
            "2.5",
            "currency",
            "“2.5” is not a whole number of rupiah: write it without decimals, like Rp 1,500,000.",
        ),
        (
            "plain",
            2.5,
            "currency",
            "“2.5” is not a whole number of rupiah: write it without decimals, like 1500000.",
        ),
        ("plain", "Rp 1.500.000", "number", "“Rp 1.500.000” is not a number: write it like 1500000 or -2.5."),
        ("en", "2,5", "number", "“2,5” is not a number: write it like 1,500,000 or 2.5."),
        ("id", "lima juta", "number", "“lima juta” is not a number: write it like 1.500.000 or 2,5."),
        (
            "plain",
            10**16,
            "number_range",
            "“10000000000000000” is out of range: use a number from -999,999,999,999,999 to "
            "999,999,999,999,999 with at most 6 decimals and 15 digits in all.",
        ),
        ("plain", True, "number", "“True” is not a number: write it like 1500000 or -2.5."),
    ],
)
def test_an_amount_with_decimals_or_not_an_amount_is_refused(
    price, style: str, written: Any, code: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        clean_property_value(price, written, number_style=style)
    assert (refused.value.code, refused.value.messages) == (code, [message])


# --- The customer form ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "written"), [("id", "Rp 1.500.000"), ("id", "1.500.000"), ("en", "1,500,000")]
)
@pytest.mark.parametrize("member", ["alice", "bob"])
def test_a_member_enters_an_amount_as_their_language_writes_it(
    acme, price, request, member: str, language: str, written: str
) -> None:
    # when the owner or an agent adds a customer with an amount written their language's way
    response = client_in(request.getfixturevalue(member), language).post(
        url("new"), {"full_name": "Budi", "prop__harga": written}
    )
    # then it is stored as whole rupiah
    assert response.status_code == 302
    assert stored(acme) == [{"harga": 1_500_000}]


@pytest.mark.parametrize(
    ("language", "written", "message"),
    [
        ("en", "2.5", "“2.5” is not a whole number of rupiah: write it without decimals, like Rp 1,500,000."),
        (
            "id",
            "2,5",
            "“2,5” bukan nominal rupiah yang bulat: tulis tanpa desimal, seperti Rp 1.500.000.",
        ),
    ],
)
def test_the_form_refuses_decimals_and_saves_nothing(acme, alice, price, language, written, message) -> None:
    response = client_in(alice, language).post(url("new"), {"full_name": "Budi", "prop__harga": written})
    assert response.status_code == 400
    assert f'<div class="invalid-feedback d-block">{message}</div>' in response.content.decode()
    assert not Customer.objects.for_workspace(acme).exists()


@pytest.mark.parametrize(("language", "shown"), [("id", "Rp 1.500.000"), ("en", "Rp 1,500,000")])
@pytest.mark.parametrize("member", ["alice", "bob"])
def test_the_edit_form_shows_the_amount_in_rupiah_and_keeps_it_when_sent_back(
    acme, alice, price, request, member: str, language: str, shown: str
) -> None:
    customer = customer_create(
        workspace=acme, actor=alice, data={"full_name": "Budi", "properties": {"harga": 1_500_000}}
    )
    page = url("detail", customer_id=customer.pk)
    client = client_in(request.getfixturevalue(member), language)
    html = client.get(page).content.decode()
    # the field shows rupiah as pages do, with the phone's digits keypad
    assert f'name="prop__harga" value="{shown}"' in html
    assert 'inputmode="numeric"' in html
    # sent back as shown, nothing changes and nothing is audited
    response = client.post(page, {"full_name": "Budi", "prop__harga": shown})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.properties == {"harga": 1_500_000}
    assert not AuditLog.objects.filter(action="customer.updated").exists()


def test_an_outsider_cannot_enter_an_amount(acme, charlie, price) -> None:
    response = client_in(charlie, "id").post(url("new"), {"full_name": "Budi", "prop__harga": "Rp 1.500.000"})
    assert response.status_code == 404
    assert not Customer.objects.for_workspace(acme).exists()


# --- A bulk action sets an amount on every matching customer -----------------------------------------------------


def test_a_bulk_action_sets_an_amount_written_the_viewers_way(
    acme, alice, price, django_capture_on_commit_callbacks
) -> None:
    for name in ("Sari 1", "Sari 2"):
        Customer.objects.create(workspace=acme, full_name=name)
    filters = customer_filters_parse({"q": "Sari"})
    # when a decimal amount is confirmed, it is refused and nothing changes
    job = bulk_job_prepare(
        workspace=acme, actor=alice, action="property", filters=filters, property_key="harga"
    )
    with pytest.raises(ValidationError):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value="2,5", number_style="id")
    assert stored(acme) == [{}, {}]
    # when "Rp 1.500.000" is confirmed by an Indonesian reader, each customer gets the whole amount
    job = bulk_job_prepare(
        workspace=acme, actor=alice, action="property", filters=filters, property_key="harga"
    )
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value="Rp 1.500.000", number_style="id")
    assert stored(acme) == [{"harga": 1_500_000}] * 2


# --- The customers table --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "shown"), [("id", "Rp 1.500.000"), ("en", "Rp 1,500,000")])
def test_the_table_shows_rupiah_in_the_viewers_language(acme, alice, bob, price, language, shown) -> None:
    Customer.objects.create(workspace=acme, full_name="Budi", properties={"harga": 1_500_000})
    for member in (alice, bob):
        client = client_in(member, language)
        client.post(url("view_update"), {"columns": ["harga"]})
        html = client.get(url("list")).content.decode()
        assert f">{shown}</" in html


def test_an_outsider_sees_no_amounts(acme, charlie, price) -> None:
    Customer.objects.create(workspace=acme, full_name="Budi", properties={"harga": 1_500_000})
    response = client_in(charlie, "en").get(url("list"))
    assert response.status_code == 404
    assert b"1,500,000" not in response.content


# --- The API stays plain --------------------------------------------------------------------------------------


def post(body: dict[str, Any], headers: dict[str, str]) -> Any:
    return Client().post(CUSTOMERS, body, content_type="application/json", **headers)


def test_the_api_takes_and_gives_a_plain_integer(acme, acme_key, price) -> None:
    created = post({"full_name": "Budi", "properties": {"harga": 1_500_000}}, acme_key)
    assert created.status_code == 201
    assert created.json()["properties"] == {"harga": 1_500_000}
    read = Client().get(f"{CUSTOMERS}/{created.json()['id']}", **acme_key)
    assert read.json()["properties"] == {"harga": 1_500_000}
    assert stored(acme) == [{"harga": 1_500_000}]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2.5", "“2.5” is not a whole number of rupiah: write it without decimals, like 1500000."),
        (2.5, "“2.5” is not a whole number of rupiah: write it without decimals, like 1500000."),
        ("lima juta", "“lima juta” is not a number: write it like 1500000 or -2.5."),
        ("Rp 1.500.000", "“Rp 1.500.000” is not a number: write it like 1500000 or -2.5."),
        (
            10**15,
            "“1000000000000000” is out of range: use a number from -999,999,999,999,999 to "
            "999,999,999,999,999 with at most 6 decimals and 15 digits in all.",
        ),
    ],
)
def test_the_api_refuses_what_is_not_whole_rupiah_and_stores_nothing(
    acme, alice, acme_key, price, value: Any, message: str
) -> None:
    # given a customer with an amount
    customer = customer_create(
        workspace=acme, actor=alice, data={"full_name": "Ani", "properties": {"harga": 5000}}
    )
    # when a new customer, or a change, carries a bad amount
    created = post({"full_name": "Budi", "properties": {"harga": value}}, acme_key)
    changed = Client().patch(
        f"{CUSTOMERS}/{customer.pk}",
        {"properties": {"harga": value}},
        content_type="application/json",
        **acme_key,
    )
    # then both are refused with what is expected, and nothing is stored
    for response in (created, changed):
        assert response.status_code == 422
        assert response.json()["errors"] == {"properties.harga": [message]}
    assert stored(acme) == [{"harga": 5000}]


def test_another_workspaces_key_cannot_change_an_amount(acme, alice, globex_key, price) -> None:
    customer = customer_create(
        workspace=acme, actor=alice, data={"full_name": "Ani", "properties": {"harga": 5000}}
    )
    response = Client().patch(
        f"{CUSTOMERS}/{customer.pk}",
        {"properties": {"harga": 9000}},
        content_type="application/json",
        **globex_key,
    )
    assert response.status_code == 404
    assert stored(acme) == [{"harga": 5000}]


def test_the_api_creates_a_currency_property_and_lists_the_kind(acme, acme_key) -> None:
    response = Client().post(
        "/api/v1/customer-properties",
        {"label": "Harga", "key": "harga", "kind": "currency"},
        content_type="application/json",
        **acme_key,
    )
    assert response.status_code == 201
    assert response.json()["kind"] == "currency"
    schema = Client().get("/api/v1/openapi.json").json()
    assert "currency" in schema["components"]["schemas"]["PropertyIn"]["properties"]["kind"]["enum"]


# --- Exports --------------------------------------------------------------------------------------------------


def test_an_export_holds_the_plain_integer(acme, alice, price) -> None:
    Customer.objects.create(workspace=acme, full_name="Budi", properties={"harga": 1_500_000})
    response = client_in(alice, "id").post(url("export"), {})
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(content)))
    assert row[header.index("harga")] == "1500000"


# --- The Properties page --------------------------------------------------------------------------------------


def test_the_new_property_page_offers_amounts_in_rupiah(acme, alice) -> None:
    for language, label in (("en", "Amount in rupiah"), ("id", "Nominal rupiah")):
        html = client_in(alice, language).get(url("property_new")).content.decode()
        assert f'<option value="currency">{label}</option>' in html


def test_the_owner_creates_a_currency_property_from_the_page(acme, alice) -> None:
    response = client_in(alice, "en").post(
        url("property_new"), {"label": "Harga", "key": "harga", "kind": "currency"}
    )
    assert response.status_code == 302
    created = PropertyDefinition.objects.for_workspace(acme).get(key="harga")
    assert (created.label, created.kind, created.options) == ("Harga", PropertyKind.CURRENCY, [])
    log = AuditLog.objects.get(workspace=acme, action="property.created")
    assert (log.actor, log.changes) == (alice, {"key": "harga", "kind": "currency"})


@pytest.mark.parametrize(("member", "status"), [("bob", 403), ("charlie", 404)])
def test_an_agent_or_outsider_cannot_create_one_and_nothing_changes(
    acme, globex, request, member: str, status: int
) -> None:
    before = PropertyDefinition.objects.for_workspace(acme).count()
    response = client_in(request.getfixturevalue(member), "en").post(
        url("property_new"), {"label": "Harga", "key": "harga", "kind": "currency"}
    )
    assert response.status_code == status
    assert PropertyDefinition.objects.for_workspace(acme).count() == before
    assert not AuditLog.objects.filter(action="property.created").exists()
