"""The data migration that gives workspaces made before interactions their default pipelines, run on a database
that holds a workspace (the test database is migrated empty, so only this test runs it on real rows)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from relasi.interactions.models import Pipeline


@pytest.mark.django_db(transaction=True)
def test_a_workspace_made_before_interactions_gets_the_default_pipelines(acme) -> None:
    # given the database as it was before interactions, with acme in it and no pipelines
    executor = MigrationExecutor(connection)
    executor.migrate([("interactions", "0001_initial")])
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM interactions_stage")
        cursor.execute("DELETE FROM interactions_pipeline")
    # when the rest of the migrations run
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then acme has one pipeline of each kind with its stages
    pipelines = Pipeline.objects.for_workspace(acme)
    assert sorted(pipelines.values_list("kind", "name")) == [
        ("deal", "Sales"),
        ("task", "Follow-up"),
        ("ticket", "Support"),
    ]
    assert [stage.name for stage in pipelines.get(kind="task").stages.all()] == ["To plan", "Planned", "Done"]
