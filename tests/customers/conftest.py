from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from relasi.customers.models import ChannelIdentity, Customer
from relasi.tenancy.models import Workspace


@pytest.fixture
def make_customer() -> Callable[..., Customer]:
    def build(
        workspace: Workspace,
        full_name: str,
        *,
        updated_at: datetime | None = None,
        username: str = "",
        **fields: Any,
    ) -> Customer:
        values: dict[str, Any] = {"full_name": full_name, **fields}
        if updated_at is not None:
            values["updated_at"] = updated_at
            values.setdefault("created_at", updated_at)
        customer = Customer.objects.create(workspace=workspace, **values)
        if username:
            ChannelIdentity.objects.create(
                workspace=workspace, customer=customer, channel=customer.source, external_id=username
            )
        return customer

    return build


@pytest.fixture
def second_batch_dies(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], dict[str, int]]:
    """Make an import's second batch raise once, as a worker killed mid-import; returns the batch counter."""
    from relasi.customers.imports import runner

    def arm(message: str) -> dict[str, int]:
        real_write = runner.import_batch_write
        calls = {"count": 0}

        def dies_on_second_batch(job: Any, rows: Any) -> None:
            calls["count"] += 1
            if calls["count"] == 2:
                raise RuntimeError(message)
            real_write(job, rows)

        monkeypatch.setattr(runner, "import_batch_write", dies_on_second_batch)
        return calls

    return arm
