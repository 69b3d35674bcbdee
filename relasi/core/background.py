"""Background jobs in the web process, for an installation without a broker (no REDIS_URL: `make run`).

With JOBS_RUNNER = "threads", a task's `.delay()` (config/celery.py) hands the job, once the transaction that
queued it has committed, to a few threads of the process that queued it, and the request answers at once. The
first request a process serves also starts, in that process, what `relasi beat` does with Redis: the scheduled
jobs of CELERY_BEAT_SCHEDULE, the recovery of stalled imports and exports among them.

What keeps it safe:
- A job never runs before the data it needs is committed, and is dropped with a rolled-back transaction.
- Two jobs of the same task and arguments never run at the same time in a process: the second waits for the first.
- Each job runs with its own database connections and closes them when it ends.
- Jobs live in memory only. A process that stops gives its jobs JOBS_SHUTDOWN_GRACE_SECONDS to end; an import or
  export it leaves unfinished is queued or running in the database, so the recovery of the next process continues
  it once it has been quiet for CUSTOMER_IMPORT_STALLED_SECONDS (an import after its last committed batch).
- Only serving processes run the schedule: the autoreloader's watching process serves nothing, so `runserver`
  has one schedule, in the child that serves, and its successor after each reload.
- One schedule per RELASI_VAR_DIR: the process that runs it holds a lock on a file there (jobs-schedule.lock),
  which the system frees when that process ends. Gunicorn's other workers (`relasi serve --prod` without Redis)
  run their own requests' jobs but no schedule, and take it over when its process ends. Several machines need
  Redis (a `relasi worker` on each, one `relasi beat`): their folders are not one.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.signals import request_started
from django.db import close_old_connections, connections, transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

THREADS = "threads"


@dataclass
class Job:
    task: Any  # a Celery task
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def key(self) -> str:
        """Same task, same arguments: the same job (an import's id, an export's id, an email's content)."""
        return json.dumps([self.task.name, list(self.args), self.kwargs], sort_keys=True, default=str)

    @property
    def label(self) -> str:
        arguments = [repr(value) for value in self.args]
        arguments += [f"{name}={value!r}" for name, value in sorted(self.kwargs.items())]
        return f"{self.task.name}({', '.join(arguments)})"


class BackgroundRunner:
    """A few daemon threads taking jobs from one queue; jobs with the same key run one after the other."""

    def __init__(self, *, threads: int) -> None:
        self.pid = os.getpid()
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._changed = threading.Condition()
        # Per key, the job queued or running first, then those waiting behind it.
        self._lines: dict[str, deque[Job]] = {}
        self._stopping = False
        # Daemon threads: a stopping process does not wait for a long import (the recovery continues it).
        self._threads = [
            threading.Thread(target=self._work, name=f"relasi-jobs-{number}", daemon=True)
            for number in range(1, max(1, threads) + 1)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: Job) -> None:
        with self._changed:
            if self._stopping:
                # The process is ending: a job started now would be cut off. Left to the next process's recovery.
                logger.warning("Background job %s not started: this process is stopping.", job.label)
                return
            line = self._lines.setdefault(job.key, deque())
            line.append(job)
            if len(line) == 1:
                self._queue.put(job)

    def unfinished(self) -> list[str]:
        with self._changed:
            return [job.label for line in self._lines.values() for job in line]

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every job submitted so far (and every job they submitted) has ended; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._lines, timeout)

    def shutdown(self, *, grace: float) -> list[str]:
        """Give the jobs `grace` seconds to end, then start no other; the jobs left unfinished."""
        self.drain(grace)
        with self._changed:
            self._stopping = True
        left = self.unfinished()
        if left:
            logger.warning(
                "Stopping with %d background job(s) unfinished: %s. An import or export among them is continued "
                "by the recovery once it has been quiet for %s s.",
                len(left),
                ", ".join(left),
                settings.CUSTOMER_IMPORT_STALLED_SECONDS,
            )
        for _thread in self._threads:
            self._queue.put(None)
        return left

    def _work(self) -> None:
        while (job := self._queue.get()) is not None and not self._stopping:
            try:
                _run(job)
            finally:
                self._end(job)

    def _end(self, job: Job) -> None:
        with self._changed:
            line = self._lines[job.key]
            line.popleft()
            if line:
                self._queue.put(line[0])
            else:
                del self._lines[job.key]
            self._changed.notify_all()


def _run(job: Job) -> None:
    # The thread's connections are its own: fresh for the job, closed after it, as a request's are.
    close_old_connections()
    started = time.monotonic()
    try:
        # Celery's own in-process run: its signals and retries as in a worker; `throw` hands us the failure.
        job.task.apply(args=job.args, kwargs=job.kwargs, task_id=job.id, throw=True)
    except Exception:
        # The job's own handling has run (a failed import is marked failed); the log names the job.
        logger.exception("Background job %s failed", job.label)
    else:
        logger.debug("Background job %s done in %.2f s", job.label, time.monotonic() - started)
    finally:
        connections.close_all()


class Schedule:
    """CELERY_BEAT_SCHEDULE run in this process, as `relasi beat` would send it: each job at once, then every
    interval. Only intervals (seconds or a timedelta) are understood; another kind of entry is skipped."""

    def __init__(
        self, entries: Mapping[str, Mapping[str, Any]], send: Callable[[Mapping[str, Any]], None]
    ) -> None:
        self.pid = os.getpid()
        self._intervals = _intervals(entries)
        self._entries = entries
        self._send = send
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="relasi-schedule", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        due = dict.fromkeys(self._intervals, time.monotonic())
        while not self._stop.is_set():
            now = time.monotonic()
            for name, when in due.items():
                if when <= now:
                    self._send_one(name)
                    due[name] = now + self._intervals[name]
            if due:
                self._stop.wait(max(0.0, min(due.values()) - time.monotonic()))
            else:
                self._stop.wait()

    def _send_one(self, name: str) -> None:
        try:
            self._send(self._entries[name])
        except Exception:
            logger.exception("Scheduled job %s could not be queued", name)


def _intervals(entries: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    intervals: dict[str, float] = {}
    for name, entry in entries.items():
        every = entry["schedule"]
        if isinstance(every, timedelta):
            every = every.total_seconds()
        if isinstance(every, int | float) and every > 0:
            intervals[name] = float(every)
        else:
            logger.warning(
                "Scheduled job %s is not an interval in seconds: it runs only under relasi beat", name
            )
    return intervals


def _send_scheduled(entry: Mapping[str, Any]) -> None:
    task = import_string(entry["task"])
    job_submit(task, tuple(entry.get("args", ())), dict(entry.get("kwargs", {})))


# The process's runner and schedule, made again in a forked child (threads do not survive a fork).
_lock = threading.Lock()
_runner: BackgroundRunner | None = None
_schedule: Schedule | None = None
# When this process last found the schedule run by another (pid, monotonic time); this process's lock file.
_schedule_asked: tuple[int, float] | None = None
_schedule_lock: tuple[int, IO[str]] | None = None
# The lock file, in RELASI_VAR_DIR: one schedule per state folder, as `relasi beat`'s pid file makes one beat.
SCHEDULE_LOCK_NAME = "jobs-schedule.lock"
SCHEDULE_LOCK_RETRY_SECONDS = 30.0


def jobs_in_threads() -> bool:
    return bool(settings.JOBS_RUNNER == THREADS)


def background_runner() -> BackgroundRunner:
    """This process's runner, started on first use."""
    global _runner
    with _lock:
        if _runner is None or _runner.pid != os.getpid():
            _runner = BackgroundRunner(threads=settings.JOBS_THREADS)
            atexit.register(_at_exit, _runner)
            logger.info(
                "Background jobs run in process %d, on %d thread(s) (no REDIS_URL).",
                _runner.pid,
                settings.JOBS_THREADS,
            )
        return _runner


def background_schedule_start() -> bool:
    """Run the scheduled jobs in this process from now on, unless another process of this RELASI_VAR_DIR runs
    them (gunicorn's workers without Redis): True when this process runs them."""
    global _schedule, _schedule_asked
    background_runner()
    with _lock:
        if _schedule is not None and _schedule.pid == os.getpid():
            return True
        _schedule_asked = (os.getpid(), time.monotonic())
        holder = _schedule_lock_take()
        if holder is not None:
            logger.info("The schedule runs in process %s; process %d runs none.", holder, os.getpid())
            return False
        schedule = _schedule = Schedule(settings.CELERY_BEAT_SCHEDULE, _send_scheduled)
        schedule.start()
    # Registered after the runner's: atexit runs it first, so nothing is scheduled while the jobs end.
    atexit.register(schedule.stop)
    logger.info("Scheduled jobs run in process %d (no REDIS_URL: no relasi beat).", schedule.pid)
    return True


def _schedule_lock_take() -> str | None:
    """Take the schedule's lock of this RELASI_VAR_DIR for as long as this process lives; None when taken, else
    the process that holds it. The system frees it when the holder ends, however it ends, so the next serving
    process to ask takes the schedule over (after a reload of `make run`, or a gunicorn worker's restart)."""
    global _schedule_lock
    if _schedule_lock is not None and _schedule_lock[0] == os.getpid():
        return None
    path = Path(settings.VAR_DIR) / SCHEDULE_LOCK_NAME
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read(20).strip() or "?"
        handle.close()
        return holder
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    # Kept open: closing it would free the lock. A forked child inherits the descriptor but asks with its own.
    _schedule_lock = (os.getpid(), handle)
    return None


def job_submit(task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Run the task on this process's threads once the current transaction commits (now, outside one).

    On a rollback the job is dropped, as a Celery task queued with `transaction.on_commit` would be.
    """
    job = Job(task=task, args=args, kwargs=kwargs)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: background_runner().submit(job))
    else:
        background_runner().submit(job)
    return job.id


def _at_exit(runner: BackgroundRunner) -> None:
    if runner.pid == os.getpid():
        runner.shutdown(grace=settings.JOBS_SHUTDOWN_GRACE_SECONDS)


def _serve_jobs(**_: object) -> None:
    # A process that serves requests (runserver's child, a gunicorn worker) runs the jobs and, if no other process
    # of its RELASI_VAR_DIR does, the schedule; the autoreloader's watching process and the management commands
    # never get here. A process that found the schedule taken asks again now and then, to take it over.
    if not jobs_in_threads():
        return
    pid = os.getpid()
    schedule = _schedule
    if schedule is not None and schedule.pid == pid:
        return
    asked = _schedule_asked
    if asked is not None and asked[0] == pid and time.monotonic() - asked[1] < SCHEDULE_LOCK_RETRY_SECONDS:
        return
    background_schedule_start()


request_started.connect(_serve_jobs, dispatch_uid="relasi.core.background")
