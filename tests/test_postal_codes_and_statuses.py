"""Postal codes are five digits (form, API, import) and a new workspace's status options are in its language
(issue 9, item 10)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from relasi.accounts.models import User
from relasi.core.audit import Actor
from relasi.customers.models import Customer, PropertyDefinition
from relasi.customers.property_services import properties_ensure_builtin
from relasi.customers.services import customer_create
from relasi.tenancy.models import Workspace
from relasi.tenancy.services import workspace_create
from tests.customers.importing import started

CUSTOMERS = "/api/v1/customers"


def client_in(user: User, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return client


def new_url() -> str:
    return reverse("customers:new", kwargs={"workspace_slug": "acme"})


# --- Postal codes: five digits --------------------------------------------------------------------------------


@pytest.mark.parametrize("zip_code", ["4011A", "401155", "4011", "40 115", "ABCDE", "40115-1"])
def test_a_postal_code_is_five_digits_in_the_api(acme, acme_key, zip_code) -> None:
    response = Client().post(
        CUSTOMERS, {"full_name": "Budi", "zip_code": zip_code}, content_type="application/json", **acme_key
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "zip_code": [
            f"“{zip_code}” is not a postal code: Indonesian postal codes are five digits, like 40115."
        ]
    }
    assert not Customer.objects.for_workspace(acme).exists()


def test_a_five_digit_postal_code_or_none_is_saved(acme, acme_key) -> None:
    for zip_code in ("40115", " 12190 ", ""):
        response = Client().post(
            CUSTOMERS,
            {"full_name": "Budi", "zip_code": zip_code},
            content_type="application/json",
            **acme_key,
        )
        assert response.status_code == 201
    assert sorted(Customer.objects.for_workspace(acme).values_list("zip_code", flat=True)) == [
        "",
        "12190",
        "40115",
    ]


def test_a_postal_code_with_letters_is_a_field_error_in_the_form(acme, alice) -> None:
    response = client_in(alice, "en").post(new_url(), {"full_name": "Budi", "zip_code": "4011A"})
    assert response.status_code == 400
    assert (
        '<div class="invalid-feedback d-block">“4011A” is not a postal code: Indonesian postal codes are five digits, '
        "like 40115.</div>" in response.content.decode()
    )
    assert not Customer.objects.for_workspace(acme).exists()


def test_a_postal_code_with_letters_fails_its_import_row(acme, alice) -> None:
    from relasi.customers import imports

    customer_import = started(
        acme, alice, b"Nama,Kode pos\nAni,40115\nBudi,4011A\n", mapping={"0": "full_name", "1": "zip_code"}
    )
    result = imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk)
    assert (result.created_count, result.failed_count) == (1, 1)
    assert list(Customer.objects.for_workspace(acme).values_list("full_name", "zip_code")) == [
        ("Ani", "40115")
    ]


def test_a_postal_code_saved_before_the_rule_stays_when_the_rest_is_edited(acme, alice) -> None:
    customer = Customer.objects.create(workspace=acme, full_name="Budi", zip_code="BDG-01")
    url = reverse("customers:detail", kwargs={"workspace_slug": "acme", "customer_id": customer.pk})
    response = client_in(alice, "en").post(url, {"full_name": "Budi Santoso", "zip_code": "BDG-01"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.full_name, customer.zip_code) == ("Budi Santoso", "BDG-01")


# --- Status options in the workspace's language --------------------------------------------------------------


def _statuses(workspace: Workspace) -> list[str]:
    return PropertyDefinition.objects.for_workspace(workspace).get(key="status").options


@pytest.mark.parametrize(
    ("language", "statuses"),
    [
        ("id", ["Lead", "Prospek", "Pelanggan", "Tidak aktif"]),
        ("en", ["Lead", "Prospect", "Customer", "Inactive"]),
    ],
)
def test_a_new_workspace_gets_status_options_in_the_language_it_is_created_in(
    alice, language, statuses
) -> None:
    with translation.override(language):
        workspace = workspace_create(name="Toko Budi", slug="toko-budi", owner=alice, actor=alice)
    assert _statuses(workspace) == statuses
    # and a customer takes one of them
    with translation.override(language):
        customer = customer_create(
            workspace=workspace, actor=Actor(user=alice), data={"full_name": "Ani", "status": statuses[1]}
        )
    assert customer.status == statuses[1]


def test_an_existing_workspace_keeps_its_status_options(acme) -> None:
    with translation.override("id"):
        properties_ensure_builtin(workspace=acme)
    assert _statuses(acme) == ["Lead", "Prospect", "Customer", "Inactive"]


def test_a_workspace_can_be_created_in_a_language_other_than_the_active_one(alice) -> None:
    # given an English page, when the workspace is created in Indonesian
    with translation.override("en"):
        workspace = workspace_create(
            name="Toko Budi", slug="toko-budi", owner=alice, actor=alice, language="id"
        )
    # then its status options are Indonesian, and the language stays English after
    assert _statuses(workspace) == ["Lead", "Prospek", "Pelanggan", "Tidak aktif"]
    assert translation.get_language() == "en"


def test_a_workspace_in_an_unknown_language_is_refused_and_not_created(alice) -> None:
    with pytest.raises(ValueError):
        workspace_create(name="Toko Budi", slug="toko-budi", owner=alice, actor=alice, language="xx")
    assert not Workspace.objects.filter(slug="toko-budi").exists()
