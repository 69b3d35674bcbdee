from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from relasi.core.audit import Actor
from relasi.tenancy.models import Workspace
from relasi.tenancy.services import api_key_create


class Command(BaseCommand):
    help = "Manage workspace API keys. `api_key create --workspace SLUG --name NAME` prints the token once."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="action", required=True)
        create = subcommands.add_parser("create", help="Create a key and print its token once.")
        create.add_argument("--workspace", required=True, help="The workspace slug.")
        create.add_argument("--name", required=True, help="What the key is for.")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug {options['workspace']!r}.")
        issued = api_key_create(
            workspace=workspace, actor=Actor(system="api-key-command"), name=options["name"]
        )
        self.stderr.write(
            f"Created key {issued.api_key.name!r} for {workspace.slug}. It is shown only this once:"
        )
        self.stdout.write(issued.token)
