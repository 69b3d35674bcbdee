"""The merge page and API: members merge two customers from the possible duplicates, the old link and API id lead
to the survivor, the survivor's page offers the undo; an outsider gets a 404 and changes nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from relasi.customers.models import Customer, CustomerMerge

pytestmark = pytest.mark.django_db


@pytest.fixture
def budi_and_sari(acme, make_customer) -> tuple[Customer, Customer]:
    budi = make_customer(acme, "Budi Santoso", phone="+6281398765432")
    sari = make_customer(acme, "Budi S.", email="budi@mail.id", city="Medan")
    return budi, sari


def merge_url(survivor: Customer, merged: Customer, slug: str = "acme") -> str:
    return f"/app/{slug}/customers/merge/?survivor={survivor.pk}&merged={merged.pk}"


@pytest.mark.parametrize("member", ["alice", "bob"])
def test_a_member_merges_from_the_page_and_undoes_it(
    request, client_for, acme, budi_and_sari, member
) -> None:
    client = client_for(request.getfixturevalue(member))
    budi, other = budi_and_sari
    # when the member opens the merge page
    page = client.get(merge_url(budi, other))
    # then both are side by side, a choice only where they differ, the survivor's value ticked first
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="field_full_name" value="survivor" checked' in html
    assert 'name="field_email" value="merged" checked' in html
    assert 'name="field_source"' not in html
    # when they merge, keeping the other's name
    response = client.post(
        "/app/acme/customers/merge/",
        {"survivor": budi.pk, "merged": other.pk, "field_full_name": "merged"},
    )
    # then they land on the survivor, which has the chosen values and offers the undo
    assert response.status_code == 302
    assert response["Location"] == f"/app/acme/customers/{budi.pk}/"
    budi.refresh_from_db()
    assert (budi.full_name, budi.phone, budi.email, budi.city) == (
        "Budi S.",
        "+6281398765432",
        "budi@mail.id",
        "Medan",
    )
    merge = CustomerMerge.objects.for_workspace(acme).get()
    assert f'data-testid="merge-undo-{merge.pk}"' in client.get(response["Location"]).content.decode()
    # and the merged customer's old links lead to the survivor
    old = client.get(f"/app/acme/customers/{other.pk}/")
    assert (old.status_code, old["Location"]) == (302, f"/app/acme/customers/{budi.pk}/")
    details = client.get(f"/app/acme/customers/{other.pk}/details/")
    assert (details.status_code, details["Location"]) == (302, f"/app/acme/customers/{budi.pk}/details/")
    # when they undo it, both are back
    undone = client.post(f"/app/acme/customers/merges/{merge.pk}/undo/")
    assert (undone.status_code, undone["Location"]) == (302, f"/app/acme/customers/{other.pk}/")
    other.refresh_from_db()
    assert (other.deleted_at, other.merged_into_id) == (None, None)
    assert client.get(f"/app/acme/customers/{other.pk}/").status_code == 200


def test_an_outsider_gets_404_and_nothing_changes(client_for, charlie, acme, budi_and_sari) -> None:
    budi, other = budi_and_sari
    client = client_for(charlie)
    assert client.get(merge_url(budi, other)).status_code == 404
    response = client.post("/app/acme/customers/merge/", {"survivor": budi.pk, "merged": other.pk})
    assert response.status_code == 404
    # and from their own workspace, acme's customers are not found either
    assert client.get(merge_url(budi, other, slug="globex")).status_code == 404
    assert not CustomerMerge.objects.for_workspace(acme).exists()
    assert Customer.objects.for_workspace(acme).filter(deleted_at__isnull=True).count() == 2


def test_the_api_merges_redirects_the_old_id_and_undoes(acme_key, acme, budi_and_sari) -> None:
    budi, other = budi_and_sari
    client = Client()
    # when a merge is asked for with a bad choice
    bad = client.post(
        "/api/v1/customers/merge",
        json.dumps({"survivor_id": budi.pk, "merged_id": other.pk, "fields": {"full_name": "theirs"}}),
        content_type="application/json",
        **acme_key,
    )
    # then it is refused and nothing changes
    assert bad.status_code == 422
    assert not CustomerMerge.objects.for_workspace(acme).exists()
    # when it is asked for rightly
    response = client.post(
        "/api/v1/customers/merge",
        json.dumps({"survivor_id": budi.pk, "merged_id": other.pk, "fields": {"full_name": "merged"}}),
        content_type="application/json",
        **acme_key,
    )
    assert response.status_code == 201
    body = response.json()
    merge = CustomerMerge.objects.for_workspace(acme).get()
    assert (body["id"], body["survivor_id"], body["merged_id"], body["undone_at"]) == (
        merge.pk,
        budi.pk,
        other.pk,
        None,
    )
    # then the old id answers a permanent redirect to the survivor
    moved = client.get(f"/api/v1/customers/{other.pk}", **acme_key)
    assert moved.status_code == 308
    assert moved["Location"] == f"http://testserver/api/v1/customers/{budi.pk}"
    assert client.get(moved["Location"], **acme_key).json()["full_name"] == "Budi S."
    # and the undo brings it back; a second undo is a conflict
    undo = client.post(f"/api/v1/customers/merges/{merge.pk}/undo", **acme_key)
    assert (undo.status_code, undo.json()["undone_at"] is not None) == (200, True)
    again = client.post(f"/api/v1/customers/merges/{merge.pk}/undo", **acme_key)
    assert again.status_code == 409
    assert client.get(f"/api/v1/customers/{other.pk}", **acme_key).json()["full_name"] == "Budi S."


def test_the_api_refuses_another_workspaces_customers(globex_key, acme, budi_and_sari) -> None:
    budi, other = budi_and_sari
    response = Client().post(
        "/api/v1/customers/merge",
        json.dumps({"survivor_id": budi.pk, "merged_id": other.pk}),
        content_type="application/json",
        **globex_key,
    )
    assert response.status_code == 404
    assert Client().get(f"/api/v1/customers/{budi.pk}", **globex_key).status_code == 404
    assert not CustomerMerge.objects.for_workspace(acme).exists()


def test_the_api_schema_names_every_field_a_merge_chooses_between() -> None:
    from relasi.customers.api_merge import MergeFieldsIn
    from relasi.customers.merge import MERGE_FIELDS

    assert tuple(MergeFieldsIn.model_fields) == MERGE_FIELDS
