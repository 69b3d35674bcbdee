from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from relasi.tenancy.models import Workspace


@receiver(post_save, sender=Workspace)
def create_default_pipelines(
    sender: type[Workspace], instance: Workspace, created: bool, **kwargs: Any
) -> None:
    if created:
        from relasi.interactions.services import pipelines_ensure_default

        pipelines_ensure_default(workspace=instance)
