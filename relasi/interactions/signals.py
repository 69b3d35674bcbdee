from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from relasi.customers.merge import customer_merge_undone, customer_merged
from relasi.tenancy.models import Workspace


@receiver(post_save, sender=Workspace)
def create_default_pipelines(
    sender: type[Workspace], instance: Workspace, created: bool, **kwargs: Any
) -> None:
    if created:
        from relasi.interactions.services import pipelines_ensure_default

        pipelines_ensure_default(workspace=instance)


@receiver(customer_merged)
def move_associations_to_survivor(
    sender: type, workspace: Workspace, survivor_id: int, merged_id: int, **kwargs: Any
) -> dict[str, Any]:
    from relasi.interactions.services import associations_move

    return {"associations": associations_move(workspace=workspace, from_id=merged_id, to_id=survivor_id)}


@receiver(customer_merge_undone)
def move_associations_back(
    sender: type, workspace: Workspace, survivor_id: int, merged_id: int, moved: dict[str, Any], **kwargs: Any
) -> None:
    from relasi.interactions.services import associations_move_back

    associations_move_back(
        workspace=workspace, survivor_id=survivor_id, merged_id=merged_id, moved=moved.get("associations", {})
    )
