"""Test data for the Schemathesis run, printed as JSON: `relasi shell -c "from tests.fuzz.seed import main; main()"`.

Run after `relasi demo`: creates the run's API key (its token is printed once, here), an import made with that key
with a failed row (so its status, resume and error file can be reached), and says which values the demo's data
accepts, for the run's dictionaries.
"""

from __future__ import annotations

import json

from django.core.files.base import ContentFile

from relasi.core.audit import Actor
from relasi.customers.cleaning import DEFAULT_STATUSES
from relasi.customers.imports import customer_import_upload_and_start
from relasi.tenancy.models import Workspace
from relasi.tenancy.selectors import workspace_member_ids
from relasi.tenancy.services import api_key_create


def main() -> None:
    workspace = Workspace.objects.get(slug="demo")
    issued = api_key_create(workspace=workspace, actor=Actor(system="schemathesis"), name="Schemathesis")
    content = b"Nama,No HP\nEka Putri,081277770001\nTanpa Nomor,12ab\n"
    customer_import = customer_import_upload_and_start(
        workspace=workspace,
        actor=Actor(api_key=issued.api_key),
        file=ContentFile(content, name="pelanggan.csv"),
        original_name="pelanggan.csv",
        mapping=None,
        duplicate_mode="skip",
    )
    print(
        json.dumps(
            {
                "token": issued.token,
                "members": sorted(workspace_member_ids(workspace=workspace)),
                "statuses": DEFAULT_STATUSES,
                "imports": [customer_import.pk],
            }
        )
    )
