from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from relasi.core.audit import Actor
from relasi.core.validation import validation_error_fields
from relasi.interactions.channels import whatsapp_channel_add
from relasi.interactions.channels_selectors import whatsapp_webhook_url
from relasi.tenancy.models import Workspace


class Command(BaseCommand):
    help = (
        "Connect a channel to a workspace. `channel add whatsapp --workspace SLUG --phone-number-id ID "
        "--app-secret SECRET --verify-token TOKEN` prints the webhook URL to give Meta on its last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="Connect a channel.")
        kinds = add.add_subparsers(dest="kind", required=True)
        whatsapp = kinds.add_parser("whatsapp", help="A WhatsApp Business number (Meta's Cloud API).")
        whatsapp.add_argument("--workspace", required=True, help="The workspace slug.")
        whatsapp.add_argument("--phone-number-id", required=True, help="Meta's phone number id (digits).")
        whatsapp.add_argument(
            "--app-secret", required=True, help="The Meta app's secret: signs each webhook POST."
        )
        whatsapp.add_argument(
            "--verify-token", required=True, help="Any secret text; type the same one in Meta."
        )
        whatsapp.add_argument("--display-phone-number", default="", help="The number as people see it.")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug {options['workspace']!r}.")
        try:
            channel = whatsapp_channel_add(
                workspace=workspace,
                actor=Actor(system="channel-command"),
                phone_number_id=options["phone_number_id"],
                app_secret=options["app_secret"],
                verify_token=options["verify_token"],
                display_phone_number=options["display_phone_number"],
            )
        except ValidationError as error:
            reasons = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in validation_error_fields(error).items()
            )
            raise CommandError(reasons) from None
        self.stderr.write(
            f"Connected WhatsApp number {channel.phone_number_id} to {workspace.slug}. In Meta's app dashboard "
            "(WhatsApp › Configuration), set this callback URL and the same verify token, and subscribe to "
            "the messages field:"
        )
        self.stdout.write(whatsapp_webhook_url(channel))
