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
