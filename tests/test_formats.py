"""One format for numbers, dates and phones on every page, in English and Bahasa Indonesia (issue 9, items 3 and 8);
numbers read as the viewer's language writes them; postal codes; status options in the workspace's language."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from relasi.accounts.models import User
from relasi.core.formatting import (
    format_count,
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_phone,
)
from relasi.core.inputs import number_checked
from relasi.core.models import AuditLog
from relasi.customers.cleaning import CustomerCleaner
from relasi.customers.display import customer_cell_text
from relasi.customers.models import Customer, CustomerExport, ExportStatus, PropertyDefinition
from relasi.customers.normalize import display_phone
from relasi.customers.property_services import property_create
from relasi.customers.selectors import Column
from relasi.customers.services import customer_create
from relasi.tenancy.models import Workspace

JAKARTA = ZoneInfo("Asia/Jakarta")
CUSTOMERS = "/api/v1/customers"


@pytest.fixture(autouse=True)
def format_modules(settings: Any) -> None:
    # What config/settings.py says once the line is in: FORMAT_MODULE_PATH = ["relasi.formats"]
    settings.FORMAT_MODULE_PATH = ["relasi.formats"]


@pytest.fixture
def indonesian() -> Iterator[None]:
    with translation.override("id"):
        yield


def client_in(user: User, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return client


def new_url() -> str:
    return reverse("customers:new", kwargs={"workspace_slug": "acme"})


@pytest.fixture
def budget(acme: Workspace, alice: User) -> PropertyDefinition:
    return property_create(workspace=acme, actor=alice, label="Anggaran", key="budget", kind="number")


# --- Dates and date-times: minutes always, one format per language ------------------------------------------


@pytest.mark.parametrize(
    ("language", "moment", "shown"),
    [
        ("id", datetime(2026, 11, 28, 23, 0, tzinfo=JAKARTA), "28 Nov 2026, 23.00"),
        ("en", datetime(2026, 11, 28, 23, 0, tzinfo=JAKARTA), "28 Nov 2026, 23:00"),
        ("id", datetime(2026, 8, 17, 0, 0, tzinfo=JAKARTA), "17 Agu 2026, 00.00"),
        ("en", datetime(2026, 8, 17, 0, 0, tzinfo=JAKARTA), "17 Aug 2026, 00:00"),
        ("id", datetime(2026, 12, 1, 9, 5, tzinfo=JAKARTA), "1 Des 2026, 09.05"),
        ("en", datetime(2026, 12, 1, 9, 5, tzinfo=JAKARTA), "1 Dec 2026, 09:05"),
    ],
)
def test_a_date_time_shows_its_minutes_on_the_hour_and_at_midnight(
    language: str, moment: datetime, shown: str
) -> None:
    with translation.override(language):
        assert format_datetime(moment) == shown
        # the pages' own filter follows the same format module
        template = Template('{{ moment|date:"DATETIME_FORMAT" }}|{{ moment }}')
        assert template.render(Context({"moment": moment})) == f"{shown}|{shown}"


def test_a_moment_is_shown_in_the_current_time_zone() -> None:
    with translation.override("id"):
        assert format_datetime(datetime(2026, 11, 28, 16, 0, tzinfo=ZoneInfo("UTC"))) == "28 Nov 2026, 23.00"
        assert format_datetime("2026-11-28T16:00:00+00:00") == "28 Nov 2026, 23.00"
        # a stored value without an offset is shown as written
        assert format_datetime("2026-11-28T23:00:00") == "28 Nov 2026, 23.00"


@pytest.mark.parametrize(("language", "shown"), [("id", "28 Nov 2026"), ("en", "28 Nov 2026")])
def test_dates_are_shown_the_same_way(language: str, shown: str) -> None:
    with translation.override(language):
        assert format_date(date(2026, 11, 28)) == shown
        assert format_date("2026-11-28") == shown
        assert Template("{{ day|date }}").render(Context({"day": date(2026, 11, 28)})) == shown
        assert format_date("not a date") == "not a date"


# --- Numbers, money and counts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "indonesian", "english"),
    [
        (1_500_000, "1.500.000", "1,500,000"),
        (2.5, "2,5", "2.5"),
        (-1_500_000.75, "-1.500.000,75", "-1,500,000.75"),
        (0.000001, "0,000001", "0.000001"),
        (999_999_999_999_999, "999.999.999.999.999", "999,999,999,999,999"),
        (Decimal("1E+6"), "1.000.000", "1,000,000"),
        (0, "0", "0"),
    ],
)
def test_numbers_are_grouped_in_the_readers_language(value: Any, indonesian: str, english: str) -> None:
    shown = {}
    for language in ("id", "en"):
        with translation.override(language):
            shown[language] = format_number(value)
    assert shown == {"id": indonesian, "en": english}


def test_money_and_counts_in_both_languages() -> None:
    with translation.override("id"):
        assert (format_money(1_500_000), format_money(-5000), format_count(30258)) == (
            "Rp 1.500.000",
            "-Rp 5.000",
            "30.258",
        )
    with translation.override("en"):
        assert (format_money(1_500_000), format_count(30258)) == ("Rp 1,500,000", "30,258")


def test_the_template_filters() -> None:
    template = Template(
        "{% load relasi_format %}{{ n|number }}|{{ n|rupiah }}|{{ n|count }}|{{ phone|phone }}|"
        "{{ empty|or_dash }}|{{ zero|or_dash }}|{{ text|number }}"
    )
    context = {"n": 1_500_000, "phone": "+6281200000243", "empty": "", "zero": 0, "text": "lots"}
    with translation.override("id"):
        assert (
            template.render(Context(context)) == "1.500.000|Rp 1.500.000|1.500.000|+62 812-0000-0243|—|0|lots"
        )
    with translation.override("en"):
        assert template.render(Context(context)).startswith("1,500,000|Rp 1,500,000|1,500,000|")


def test_ids_in_templates_stay_ungrouped() -> None:
    # USE_THOUSAND_SEPARATOR stays off: an id printed into a URL or a form is never "1.234"
    assert django_settings.USE_THOUSAND_SEPARATOR is False
    with translation.override("id"):
        assert Template("{{ pk }}").render(Context({"pk": 12345})) == "12345"


bounded = st.builds(
    lambda digits, places: Decimal(digits).scaleb(-places),
    st.integers(min_value=-(10**15 - 1), max_value=10**15 - 1),
    st.integers(min_value=0, max_value=6),
)


@given(number=bounded, language=st.sampled_from(["id", "en"]))
def test_a_number_as_a_page_shows_it_reads_back_in_that_language(number: Decimal, language: str) -> None:
    with translation.override(language):
        shown = format_number(number)
    assert number_checked(shown, style=language) == number_checked(number)


@given(
    amount=st.integers(min_value=-(10**15 - 1), max_value=10**15 - 1), language=st.sampled_from(["id", "en"])
)
def test_rupiah_as_a_page_shows_it_reads_back_in_that_language(amount: int, language: str) -> None:
    with translation.override(language):
        shown = format_money(amount)
    assert number_checked(shown, style=language) == amount


# --- Phones: one international style on every page --------------------------------------------------------


def test_phones_are_shown_in_one_international_style() -> None:
    assert format_phone("+6281200000243") == "+62 812-0000-0243"
    assert display_phone("+6281200000243") == "+62 812-0000-0243"
    assert format_phone("") == ""
    assert format_phone("not a phone") == "not a phone"


# --- The customers table ----------------------------------------------------------------------------------


@pytest.fixture
def typed(acme: Workspace, alice: User) -> dict[str, PropertyDefinition]:
    kinds = {"budget": "number", "born": "date", "called": "datetime", "office": "phone", "vip": "boolean"}
    definitions = {
        key: property_create(workspace=acme, actor=alice, label=key.title(), key=key, kind=kind)
        for key, kind in kinds.items()
    }
    definitions["tags"] = property_create(
        workspace=acme, actor=alice, label="Tags", key="tags", kind="multiselect", options=["Gold", "Retail"]
    )
    return definitions


def _columns(definitions: dict[str, PropertyDefinition]) -> dict[str, Column]:
    columns = {key: Column(key, key, is_property=True, definition=item) for key, item in definitions.items()}
    for key in ("phone", "email", "updated_at", "job_title", "deleted_at"):
        columns[key] = Column(key, key)
    return columns


def test_every_cell_is_formatted_and_every_empty_cell_is_none(acme, typed, indonesian) -> None:
    # given a customer with a value of every type, and one with none
    full = Customer.objects.create(
        workspace=acme,
        full_name="Budi",
        phone="+6281200000243",
        email="budi@contoh.id",
        updated_at=datetime(2026, 11, 28, 16, 0, tzinfo=ZoneInfo("UTC")),
        properties={
            "budget": 1_500_000.75,
            "born": "1990-08-17",
            "called": "2026-11-28T23:00:00+07:00",
            "office": "+622150000000",
            "vip": True,
            "tags": ["Gold", "Retail"],
        },
    )
    empty = Customer.objects.create(workspace=acme, full_name="Ani", properties={"tags": []})
    columns = _columns(typed)
    # when their cells are formatted (in Indonesian)
    cells = {key: customer_cell_text(full, column) for key, column in columns.items()}
    empty_cells = {
        key: customer_cell_text(empty, column) for key, column in columns.items() if key != "updated_at"
    }
    # then each follows the one format; built-in and custom empties alike are None (shown "—")
    assert cells == {
        "budget": "1.500.000,75",
        "born": "17 Agu 1990",
        "called": "28 Nov 2026, 23.00",
        "office": "+62 21 50000000",
        "vip": "Ya",
        "tags": "Gold, Retail",
        "phone": "+62 812-0000-0243",
        "email": "budi@contoh.id",
        "updated_at": "28 Nov 2026, 23.00",
        "job_title": None,
        "deleted_at": None,
    }
    assert set(empty_cells.values()) == {None}


def test_a_value_of_another_type_than_its_property_is_shown_as_it_is(acme, typed) -> None:
    # the type of a property can change after values were stored
    odd = Customer.objects.create(
        workspace=acme, full_name="Odd", properties={"budget": "lots", "born": "kemarin"}
    )
    columns = _columns(typed)
    assert (customer_cell_text(odd, columns["budget"]), customer_cell_text(odd, columns["born"])) == (
        "lots",
        "kemarin",
    )


@pytest.mark.parametrize(
    ("language", "number", "moment"),
    [("id", "1.500.000", "28 Nov 2026, 23.00"), ("en", "1,500,000", "28 Nov 2026, 23:00")],
)
def test_the_table_shows_numbers_dates_and_empties_in_the_viewers_language(
    acme, alice, bob, budget, language, number, moment
) -> None:
    # given a customer without an email, and a view showing the budget
    Customer.objects.create(
        workspace=acme,
        full_name="Budi",
        updated_at=datetime(2026, 11, 28, 23, 0, tzinfo=JAKARTA),
        properties={"budget": 1_500_000},
    )
    for member in (alice, bob):
        client = client_in(member, language)
        client.post(
            reverse("customers:view_update", kwargs={"workspace_slug": "acme"}),
            {"columns": ["email", "updated_at", "budget"]},
        )
        # when the list is read
        html = client.get(reverse("customers:list", kwargs={"workspace_slug": "acme"})).content.decode()
        # then the number is grouped, the date-time has its minutes and the empty email is a dash
        assert f">{number}</" in html
        assert f">{moment}</" in html
        assert '<span class="text-secondary">—</span>' in html


def test_an_outsider_sees_no_table(acme, charlie, budget) -> None:
    response = client_in(charlie, "id").get(reverse("customers:list", kwargs={"workspace_slug": "acme"}))
    assert response.status_code == 404


# --- The customer form reads numbers in the viewer's language ----------------------------------------------


@pytest.mark.parametrize(("language", "written"), [("id", "1.500.000"), ("en", "1,500,000")])
@pytest.mark.parametrize("member", ["alice", "bob"])
def test_the_form_reads_a_number_as_the_viewers_language_writes_it(
    acme, budget, request, member, language, written
) -> None:
    user = request.getfixturevalue(member)
    # when a member adds a customer with a number written their language's way
    response = client_in(user, language).post(new_url(), {"full_name": "Budi", "prop__budget": written})
    # then the number is stored as a number
    assert response.status_code == 302
    assert list(Customer.objects.for_workspace(acme).values_list("properties", flat=True)) == [
        {"budget": 1_500_000}
    ]


@pytest.mark.parametrize(
    ("language", "written", "message"),
    [
        ("en", "1.500.000", "“1.500.000” is not a number: write it like 1,500,000 or 2.5."),
        ("en", "2,5", "“2,5” is not a number: write it like 1,500,000 or 2.5."),
        ("id", "1.50.000", "“1.50.000” tidak dikelompokkan per ribuan: tulis seperti 1.500.000 atau 2,5."),
    ],
)
def test_the_form_refuses_a_number_written_another_way_with_every_other_error(
    acme, alice, budget, language, written, message
) -> None:
    # when the number is written another way, and the zip code is wrong too
    response = client_in(alice, language).post(
        new_url(), {"full_name": "Budi", "prop__budget": written, "zip_code": "4O115"}
    )
    # then both fields say what is expected at once, and nothing is saved
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<div class="invalid-feedback d-block">{message}</div>' in html
    assert ("“4O115” bukan kode pos" if language == "id" else "“4O115” is not a postal code") in html
    assert not Customer.objects.for_workspace(acme).exists()


def test_the_edit_form_shows_numbers_and_phones_as_pages_do_and_saves_them_unchanged(
    acme, alice, bob, budget
) -> None:
    customer = customer_create(
        workspace=acme,
        actor=alice,
        data={"full_name": "Budi", "phone": "081200000243", "properties": {"budget": 1_500_000.5}},
    )
    url = reverse("customers:detail", kwargs={"workspace_slug": "acme", "customer_id": customer.pk})
    client = client_in(bob, "id")
    html = client.get(url).content.decode()
    assert 'value="1.500.000,5"' in html
    assert 'value="+62 812-0000-0243"' in html
    # sent back as shown, nothing changes and nothing is audited
    response = client.post(
        url, {"full_name": "Budi", "phone": "+62 812-0000-0243", "prop__budget": "1.500.000,5"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.phone, customer.properties) == ("+6281200000243", {"budget": 1_500_000.5})
    assert not AuditLog.objects.filter(action="customer.updated").exists()


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        # written by the API with an offset: shown in the workspace's time, Asia/Jakarta
        ("2026-11-28T16:00:00+00:00", "2026-11-28T23:00"),
        # written by the form (the browser's date-time field has no offset)
        ("2026-11-28T23:00:00", "2026-11-28T23:00"),
    ],
)
def test_the_edit_form_shows_a_date_time_its_field_can_hold_and_keeps_it_when_unchanged(
    acme, alice, bob, stored, shown
) -> None:
    # given a customer whose date-time property was stored with or without an offset
    property_create(workspace=acme, actor=alice, label="Met", key="met", kind="datetime")
    customer = customer_create(
        workspace=acme, actor=alice, data={"full_name": "Budi", "properties": {"met": stored}}
    )
    url = reverse("customers:detail", kwargs={"workspace_slug": "acme", "customer_id": customer.pk})
    for member in (alice, bob):
        client = client_in(member, "id")
        # when the form is read, then the field holds the local time as its type="datetime-local" input reads it
        html = client.get(url).content.decode()
        assert f'value="{shown}"' in html
        # and when it is sent back as shown, the stored value stays as it was and nothing is audited
        response = client.post(url, {"full_name": "Budi", "prop__met": shown})
        assert response.status_code == 302
        customer.refresh_from_db()
        assert customer.properties == {"met": stored}
    assert not AuditLog.objects.filter(action="customer.updated").exists()


def test_an_outsider_cannot_reach_the_form(acme, charlie, budget) -> None:
    response = client_in(charlie, "id").post(new_url(), {"full_name": "Budi", "prop__budget": "1.500.000"})
    assert response.status_code == 404
    assert not Customer.objects.for_workspace(acme).exists()


# --- The API stays plain ----------------------------------------------------------------------------------


def test_the_api_reads_only_the_plain_form(acme, acme_key, budget) -> None:
    client = Client()
    # a JSON number and the plain text form are read
    for value in (1_500_000, "1500000"):
        response = client.post(
            CUSTOMERS,
            {"full_name": "Budi", "properties": {"budget": value}},
            content_type="application/json",
            **acme_key,
        )
        assert response.status_code == 201
        assert response.json()["properties"] == {"budget": 1_500_000}
    # "1.500.000" is 1500000 in Indonesian and 1.5 million... or nothing, in plain: refused, naming the plain form
    response = client.post(
        CUSTOMERS,
        {"full_name": "Ani", "properties": {"budget": "1.500.000"}},
        content_type="application/json",
        **acme_key,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "properties.budget": ["“1.500.000” is not a number: write it like 1500000 or -2.5."]
    }
    assert Customer.objects.for_workspace(acme).count() == 2
    # and the API's answers are never grouped
    listed = client.get(CUSTOMERS, **acme_key).json()["items"]
    assert [item["properties"] for item in listed] == [{"budget": 1_500_000}] * 2


def test_the_page_language_does_not_change_how_the_api_reads(acme, acme_key, budget) -> None:
    response = Client().post(
        CUSTOMERS,
        {"full_name": "Budi", "properties": {"budget": "1.500"}},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="id",
        **acme_key,
    )
    assert response.status_code == 201
    assert response.json()["properties"] == {"budget": 1.5}


def test_the_cleaner_reads_the_style_it_is_given(acme, budget) -> None:
    # an import calls it with the file's style
    cleaned = CustomerCleaner(workspace=acme, number_style="id").clean(
        {"full_name": "Budi", "properties": {"budget": "1.500"}}
    )
    assert cleaned["properties"] == {"budget": 1500}
    with pytest.raises(ValueError):
        CustomerCleaner(workspace=acme, number_style="fr")


# --- The duplicate warning shows phones as the table does ----------------------------------------------------


def test_the_duplicate_warning_shows_the_phone_as_the_table_does(acme, alice, bob) -> None:
    customer_create(workspace=acme, actor=alice, data={"full_name": "Budi", "phone": "081200000243"})
    response = client_in(bob, "en").post(new_url(), {"full_name": "Budi Lagi", "phone": "0812-0000-0243"})
    html = response.content.decode()
    assert 'data-testid="duplicate-warning"' in html
    assert "Budi</a> · +62 812-0000-0243</li>" in html
    assert "+6281200000243" not in html


def test_the_duplicate_warning_names_only_the_values_a_customer_has(acme, alice, bob, charlie) -> None:
    # given a customer with an email and no phone
    customer_create(workspace=acme, actor=alice, data={"full_name": "Ani", "email": "ani@example.com"})
    # when bob adds another with the same email, then the warning shows the email after one separator
    html = (
        client_in(bob, "en")
        .post(new_url(), {"full_name": "Ani B", "email": "ani@example.com"})
        .content.decode()
    )
    assert "Ani</a> · ani@example.com</li>" in html
    assert Customer.objects.for_workspace(acme).count() == 1
    # and charlie, an outsider, gets no form and adds nobody
    response = client_in(charlie, "en").post(new_url(), {"full_name": "Ani C", "email": "ani@example.com"})
    assert response.status_code == 404
    assert Customer.objects.for_workspace(acme).count() == 1


# --- Counts in pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "shown"),
    [("en", "The export is ready: 30,258 customers."), ("id", "Ekspor siap: 30.258 pelanggan.")],
)
def test_the_export_count_is_grouped_in_the_viewers_language(
    acme, alice, bob, charlie, language, shown
) -> None:
    # given alice's finished export of 30,258 customers
    export = CustomerExport.objects.create(
        workspace=acme, created_by=alice, status=ExportStatus.COMPLETED, row_count=30258
    )
    url = reverse("customers:export_status", kwargs={"workspace_slug": "acme", "export_id": export.pk})
    # when alice reads its page, then the count is grouped in her language
    response = client_in(alice, language).get(url)
    assert response.status_code == 200
    assert shown in response.content.decode()
    # and bob (an agent, not its author) and charlie (an outsider) do not see it
    assert client_in(bob, language).get(url).status_code in (403, 404)
    assert client_in(charlie, language).get(url).status_code == 404
