"""Workspaces made before interactions existed get the default pipelines new workspaces are made with (in English:
their owners can rename them)."""

from typing import Any

from django.db import migrations

DEFAULTS = {
    "ticket": ("Support", ["New", "In progress", "Waiting on customer", "Resolved"]),
    "deal": ("Sales", ["Qualification", "Proposal", "Negotiation", "Won", "Lost"]),
    "task": ("Follow-up", ["To plan", "Planned", "Done"]),
}


def create_defaults(apps: Any, schema_editor: Any) -> None:
    workspace_model = apps.get_model("tenancy", "Workspace")
    pipeline_model = apps.get_model("interactions", "Pipeline")
    stage_model = apps.get_model("interactions", "Stage")
    for workspace in workspace_model.objects.all().iterator():
        existing = set(pipeline_model.unscoped.filter(workspace=workspace).values_list("kind", flat=True))
        for kind, (name, stages) in DEFAULTS.items():
            if kind in existing:
                continue
            pipeline = pipeline_model.unscoped.create(workspace=workspace, kind=kind, name=name)
            stage_model.unscoped.bulk_create(
                [
                    stage_model(workspace=workspace, pipeline=pipeline, name=stage, position=position)
                    for position, stage in enumerate(stages)
                ]
            )


class Migration(migrations.Migration):
    dependencies = [("interactions", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
