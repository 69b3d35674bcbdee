"""Tenancy fails closed for writes too: scoped bulk writes refuse foreign rows, every workspace-owned model
uses the scoped manager, and `.unscoped` appears only where relasi.core.scoping allows it."""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from relasi.core.scoping import (
    NOT_WORKSPACE_OWNED,
    UNSCOPED_ALLOWED,
    UnscopedQueryError,
    WorkspaceOwned,
    WorkspaceScopedManager,
)
from relasi.customers.models import Customer, CustomerView
from relasi.tenancy.models import Workspace

ROOT = Path(__file__).resolve().parents[1]
# Tests read the database from outside, so they may use `.unscoped`; the product and its benchmark may not.
SCANNED = ("relasi", "bench", "config")


def test_scoped_bulk_create_refuses_a_row_of_another_workspace_and_writes_nothing(acme, globex) -> None:
    rows = [Customer(workspace=acme, full_name="Ours"), Customer(workspace=globex, full_name="Theirs")]
    with pytest.raises(UnscopedQueryError):
        Customer.objects.for_workspace(acme).bulk_create(rows)
    assert Customer.unscoped.count() == 0


def test_scoped_bulk_create_refuses_a_row_without_a_workspace(acme) -> None:
    with pytest.raises(UnscopedQueryError):
        Customer.objects.for_workspace(acme).bulk_create([Customer(full_name="Nobody's")])
    assert Customer.unscoped.count() == 0


def test_scoped_bulk_create_writes_its_own_workspace_rows(acme) -> None:
    created = Customer.objects.for_workspace(acme).bulk_create(
        [Customer(workspace=acme, full_name="A"), Customer(workspace=acme, full_name="B")]
    )
    assert len(created) == 2
    assert sorted(Customer.objects.for_workspace(acme).values_list("full_name", flat=True)) == ["A", "B"]


def test_scoped_bulk_update_refuses_a_row_of_another_workspace_and_changes_nothing(acme, globex) -> None:
    ours = Customer.objects.create(workspace=acme, full_name="Ours")
    theirs = Customer.objects.create(workspace=globex, full_name="Theirs")
    ours.full_name, theirs.full_name = "Ours changed", "Theirs changed"
    with pytest.raises(UnscopedQueryError):
        Customer.objects.for_workspace(acme).bulk_update([ours, theirs], ["full_name"])
    assert sorted(Customer.unscoped.values_list("full_name", flat=True)) == ["Ours", "Theirs"]


def test_bulk_writes_need_a_workspace_first(acme) -> None:
    with pytest.raises(UnscopedQueryError):
        Customer.objects.bulk_create([Customer(workspace=acme, full_name="A")])
    with pytest.raises(UnscopedQueryError):
        Customer.objects.bulk_update([], ["full_name"])
    assert Customer.unscoped.count() == 0


def test_scoped_create_fills_in_its_workspace_and_refuses_another(acme, globex, alice) -> None:
    view = CustomerView.objects.for_workspace(acme).create(user=alice, columns=["phone"])
    assert view.workspace_id == acme.pk
    with pytest.raises(UnscopedQueryError):
        CustomerView.objects.for_workspace(acme).create(workspace=globex, user=alice, columns=[])
    assert list(CustomerView.unscoped.values_list("workspace_id", flat=True)) == [acme.pk]


def _points_at_workspace(field: models.Field) -> bool:  # type: ignore[type-arg]
    return bool(
        field.is_relation and (field.many_to_one or field.one_to_one) and field.related_model is Workspace
    )


def test_every_model_with_a_workspace_is_workspace_owned_or_says_why_not() -> None:
    offenders = [
        model._meta.label_lower
        for model in apps.get_models()
        if any(_points_at_workspace(field) for field in model._meta.get_fields() if field.concrete)
        and not issubclass(model, WorkspaceOwned)
        and model._meta.label_lower not in NOT_WORKSPACE_OWNED
    ]
    assert offenders == []
    # and every workspace-owned model keeps the scoped manager as `objects`
    unscoped_objects = [
        model._meta.label_lower
        for model in apps.get_models()
        if issubclass(model, WorkspaceOwned) and not isinstance(model.objects, WorkspaceScopedManager)
    ]
    assert unscoped_objects == []
    # and each exception is a real model, with its reason
    labels = {model._meta.label_lower for model in apps.get_models()}
    assert all(label in labels and reason for label, reason in NOT_WORKSPACE_OWNED.items())


def _unscoped_uses(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.lineno for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "unscoped"
    ]


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def unscoped_outside_allowed_modules() -> list[str]:
    found = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = _module_name(path)
            if any(fnmatch.fnmatch(module, pattern) for pattern in UNSCOPED_ALLOWED):
                continue
            found.extend(f"{module}:{line}" for line in _unscoped_uses(path))
    return found


def test_unscoped_appears_only_in_the_allowed_modules() -> None:
    assert unscoped_outside_allowed_modules() == []


def test_the_unscoped_check_sees_a_use_in_a_view(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a view that reads every workspace's customers (what the check exists to catch)
    view = tmp_path / "relasi" / "customers" / "views.py"
    view.parent.mkdir(parents=True)
    view.write_text("from relasi.customers.models import Customer\n\nrows = Customer.unscoped.filter()\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    # then the check names it, and an allowed module is left alone
    assert unscoped_outside_allowed_modules() == ["relasi.customers.views:3"]
    admin = tmp_path / "relasi" / "customers" / "admin.py"
    admin.write_text("from relasi.customers.models import Customer\n\nrows = Customer.unscoped.all()\n")
    assert unscoped_outside_allowed_modules() == ["relasi.customers.views:3"]


def test_a_scoped_create_cannot_name_another_workspace_by_id(acme, globex) -> None:
    with pytest.raises(UnscopedQueryError):
        Customer.objects.for_workspace(acme).create(full_name="Sneaky", workspace_id=globex.pk)
    assert Customer.unscoped.count() == 0


def test_a_scoped_update_cannot_move_rows_to_another_workspace(acme, globex) -> None:
    customer = Customer.objects.create(workspace=acme, full_name="Budi")
    rows = Customer.objects.for_workspace(acme).filter(pk=customer.pk)
    with pytest.raises(UnscopedQueryError):
        rows.update(workspace=globex)
    with pytest.raises(UnscopedQueryError):
        rows.update(workspace_id=globex.pk)
    with pytest.raises(UnscopedQueryError):
        Customer.objects.for_workspace(acme).update_or_create(
            pk=customer.pk, defaults={"workspace_id": globex.pk}
        )
    with pytest.raises(UnscopedQueryError):
        Customer.objects.for_workspace(acme).bulk_update([customer], ["workspace"])
    assert list(Customer.unscoped.values_list("workspace_id", flat=True)) == [acme.pk]
    # the scoped update still writes its own rows
    assert rows.update(full_name="Budi S.", workspace=acme) == 1


def test_a_loaded_row_cannot_be_saved_into_another_workspace(acme, globex) -> None:
    Customer.objects.create(workspace=acme, full_name="Budi")
    customer = Customer.objects.for_workspace(acme).get()
    customer.workspace = globex
    with pytest.raises(UnscopedQueryError):
        customer.save()
    assert list(Customer.unscoped.values_list("workspace_id", flat=True)) == [acme.pk]


def test_a_related_manager_cannot_link_rows_of_two_workspaces(acme, globex) -> None:
    from relasi.customers.models import ChannelIdentity

    customer = Customer.objects.create(workspace=acme, full_name="Budi")
    with pytest.raises(UnscopedQueryError):
        customer.identities.create(workspace=globex, channel="instagram", external_id="budi")
    assert not ChannelIdentity.unscoped.exists()
    customer.identities.create(workspace=acme, channel="instagram", external_id="budi")
    assert ChannelIdentity.objects.for_workspace(acme).count() == 1


def test_an_upsert_must_be_keyed_on_the_workspace(acme) -> None:
    with pytest.raises(UnscopedQueryError):
        Customer.objects.for_workspace(acme).bulk_create(
            [Customer(workspace=acme, full_name="A")],
            update_conflicts=True,
            unique_fields=["source_import", "source_row"],
            update_fields=["full_name"],
        )
    assert Customer.unscoped.count() == 0


# Unique keys of tenant tables that cannot start with the workspace, and why (docs/scaling.md).
UNIQUE_WITHOUT_WORKSPACE = {
    ("tenancy.apikey", "prefix"): "authentication finds the key, and with it the workspace, by its prefix",
    (
        "interactions.whatsappchannel",
        "phone_number_id",
    ): "Meta's id of a number: one workspace may connect it",
    ("interactions.whatsappchannel", "url_token"): "the webhook URL is how a POST finds its workspace",
    ("billing.invoice", "number"): "invoice numbers are the platform's, the seller's: one sequence for all",
}


def _unique_and_indexed_field_lists(model: type) -> list[tuple[str, list[str]]]:
    meta = model._meta  # type: ignore[attr-defined]
    found: list[tuple[str, list[str]]] = []
    for constraint in meta.constraints:
        fields = list(getattr(constraint, "fields", ()) or ())
        if fields:
            found.append(
                ("unique" if constraint.__class__.__name__ == "UniqueConstraint" else "check", fields)
            )
    for index in meta.indexes:
        found.append(("index", [name.lstrip("-") for name in index.fields]))
    for together in meta.unique_together:
        found.append(("unique", list(together)))
    for field in meta.concrete_fields:
        if field.unique and not field.primary_key:
            found.append(("unique", [field.name]))
        elif field.db_index and not field.primary_key and not field.unique:
            # Django's own index of a foreign key (or a field with db_index=True): one column.
            found.append(("foreign key index" if field.is_relation else "index", [field.name]))
    return found


def test_every_unique_key_and_index_of_a_tenant_table_starts_with_the_workspace() -> None:
    # so that the tables can be distributed by workspace (docs/scaling.md): a row's keys are its workspace's. The
    # one exception by rule: Django's one-column index of a foreign key, by which deleting the row it points at (a
    # user, a customer) finds the rows to cascade to, without a workspace; Citus keeps such non-unique indexes
    # shard by shard. A field indexed on its own (db_index=True) is not a foreign key, and must not be.
    offenders = [
        (model._meta.label_lower, kind, fields)
        for model in apps.get_models()
        if issubclass(model, WorkspaceOwned)
        for kind, fields in _unique_and_indexed_field_lists(model)
        if kind not in ("check", "foreign key index")
        and fields[0] != "workspace"
        and (model._meta.label_lower, fields[0]) not in UNIQUE_WITHOUT_WORKSPACE
    ]
    assert offenders == []
    # and each exception names a real unique field
    for label, field_name in UNIQUE_WITHOUT_WORKSPACE:
        assert apps.get_model(label)._meta.get_field(field_name).unique
