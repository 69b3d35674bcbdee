"""Celery application. JOBS_RUNNER (config/settings.py) says where a task queued with `.delay()` runs:

- "celery" (REDIS_URL set): on a `relasi worker`, through Redis;
- "threads" (no REDIS_URL: `make run`): on threads of the process that queued it, after its transaction commits
  (relasi/core/background.py), so the request answers at once;
- "eager" (the test suite): in the call itself, so a test sees the job's effect when the call returns.
"""

import gc
import os
from typing import Any

from celery import Celery, Task, signals
from django.conf import settings

from relasi.core import background

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class RelasiTask(Task):
    def apply_async(self, args: Any = None, kwargs: Any = None, *rest: Any, **options: Any) -> Any:
        if background.jobs_in_threads():
            task_id = background.job_submit(self, tuple(args or ()), dict(kwargs or {}))
            return self.AsyncResult(task_id)
        return super().apply_async(args, kwargs, *rest, **options)


app = Celery("relasi", task_cls=RelasiTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_process_init.connect
def _freeze_startup_objects(**_: object) -> None:
    # As the web processes do (config/wsgi.py): what the worker made while starting is not walked by every full
    # collection of the jobs' garbage.
    gc.collect()
    gc.freeze()


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_without_broker(**_: object) -> None:
    # Without REDIS_URL the broker would be "memory://", private to this process: a worker would wait forever
    # for jobs that the web process runs itself, and a beat would send the schedule nowhere.
    if settings.JOBS_RUNNER != "celery":
        raise SystemExit(
            "relasi worker and relasi beat need REDIS_URL. Without it the web process runs the jobs and the "
            f"schedule itself (JOBS_RUNNER={settings.JOBS_RUNNER})."
        )
