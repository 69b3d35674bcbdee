"""Demo data: one workspace with an owner and an agent, a partner, a staff user, and varied customers.

Safe to run again: existing rows are kept, missing ones are added.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from relasi.accounts.models import User
from relasi.accounts.services import user_create
from relasi.billing.demo import billing_create_sample
from relasi.customers.services import customers_create_sample
from relasi.interactions.channels import whatsapp_channel_add
from relasi.interactions.channels_selectors import whatsapp_channels_of_workspace, whatsapp_webhook_url
from relasi.interactions.demo import interactions_create_sample
from relasi.partners.demo import partners_create_sample
from relasi.partners.models import Partner
from relasi.partners.services import partner_create
from relasi.tenancy.models import Membership, Role, Workspace
from relasi.tenancy.services import workspace_create

DEMO_PASSWORD = "Relasi#2026"
# Meta gives numbers ids like this one; no real number has it.
DEMO_PHONE_NUMBER_ID = "100000000002026"
DEMO_ACCOUNTS = [
    ("owner@relasi.test", "Sari Owner", "workspace owner"),
    ("agent@relasi.test", "Bayu Agent", "workspace agent"),
    ("partner@relasi.test", "Putri Partner", "partner"),
    ("staff@relasi.test", "Staff Relasi", "platform staff"),
]


def _user(email: str, full_name: str, *, is_staff: bool = False) -> User:
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        return existing
    user = user_create(
        email=email, full_name=full_name, password=DEMO_PASSWORD, actor=None, is_staff=is_staff
    )
    if is_staff:
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
    return user


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and print the demo sign-ins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--customers", type=int, default=300, help="How many demo customers (first run only)."
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load the demo accounts even with DEBUG=false (a throwaway demo installation only).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.RELASI_PRODUCTION and not options["allow_production"]:
            raise CommandError(
                "The demo accounts share a password printed in the README: not with DEBUG=false. Create the first "
                "account with `relasi createsuperuser` and the workspace in the back-office (docs/operations.md), "
                "or pass --allow-production for a throwaway demo installation."
            )
        with transaction.atomic():
            owner = _user("owner@relasi.test", "Sari Owner")
            agent = _user("agent@relasi.test", "Bayu Agent")
            partner_user = _user("partner@relasi.test", "Putri Partner")
            staff = _user("staff@relasi.test", "Staff Relasi", is_staff=True)
            workspace = Workspace.objects.filter(slug="demo").first()
            if workspace is None:
                workspace = workspace_create(name="Toko Nusantara", slug="demo", owner=owner, actor=None)
            Membership.objects.for_workspace(workspace).get_or_create(
                user=agent, defaults={"role": Role.AGENT}
            )
            partner = Partner.objects.filter(user=partner_user).first() or partner_create(
                user=partner_user, actor=None, code="RPDEMO01"
            )
            partners_create_sample(partner=partner, staff=staff)
            created = customers_create_sample(
                workspace=workspace,
                actor=owner,
                count=options["customers"],
                now=timezone.now(),
                seed=2026,
                only_if_empty=True,
            )
            interactions_create_sample(
                workspace=workspace, actor=owner, members=[owner, agent], now=timezone.now(), seed=2026
            )
            billing_create_sample(workspace=workspace, owner=owner, now=timezone.now())
            channel = whatsapp_channels_of_workspace(workspace=workspace).first()
            if channel is None:
                # A demo number: Meta never calls it, but the webhook can be tried with a signed POST (the secret
                # is made here, per installation, never a value written in the code).
                channel = whatsapp_channel_add(
                    workspace=workspace,
                    actor=owner,
                    phone_number_id=DEMO_PHONE_NUMBER_ID,
                    app_secret=secrets.token_urlsafe(24),
                    verify_token=secrets.token_urlsafe(12),
                    display_phone_number="+62 811-0000-2026",
                )
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready: workspace 'demo', {created} customers added this run.")
        )
        self.stdout.write(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for email, _name, role in DEMO_ACCOUNTS:
            self.stdout.write(f"  {role:<16} {email}")
        site = settings.RELASI_SITE_URL.rstrip("/")
        self.stdout.write(f"  Workspace app:   {site}{reverse('accounts:login')}")
        self.stdout.write(f"  Partner portal:  {site}{reverse('partners:login')}")
        self.stdout.write(f"  Back-office:     {site}{reverse('admin:index')}")
        self.stdout.write(f"  Demo WhatsApp webhook (Settings › Channels): {whatsapp_webhook_url(channel)}")
