"""The `relasi` command: friendly names for the common tasks, and every manage.py command besides.

relasi serve [--prod] [ADDRPORT]   development server, or gunicorn with --prod
relasi worker [CELERY OPTIONS]     Celery worker, without the scheduler (run as many as you like)
relasi beat                        Celery beat, the scheduler: run exactly ONE, whatever the number of
                                   workers (two would send every scheduled job twice)
relasi demo                        load the demo data (safe to repeat)
relasi api-key create --workspace SLUG --name NAME
relasi import-customers FILE --workspace SLUG
relasi bench customers --rows N
relasi bench billing [--processes 4 --seconds 20]
relasi <any manage.py command>
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

# The tools run with this interpreter (`python -m gunicorn`, `python -m celery`), so they are the ones of
# Relasi's own environment whether or not its bin folder is on PATH.
PYTHON = sys.executable


def gunicorn_argv(arguments: list[str], environ: Mapping[str, str]) -> list[str]:
    bind = arguments[0] if arguments else environ.get("BIND", "127.0.0.1:8000")
    workers = environ.get("WEB_CONCURRENCY", "3")
    return [
        PYTHON,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        bind,
        "--workers",
        workers,
        "--access-logfile",
        "-",
        # gunicorn 27 opens a control socket at one path per user ($HOME/.gunicorn): two web processes of one
        # user would share it, and the first to stop deletes the other's. Relasi does not use it.
        "--no-control-socket",
    ]


def worker_argv(arguments: list[str]) -> list[str]:
    if "--beat" in arguments or "-B" in arguments:
        raise SystemExit(
            "relasi worker runs no scheduler: run `relasi beat` as its own process, exactly one of it."
        )
    return [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", *arguments]


def beat_argv(arguments: list[str], var_dir: Path) -> list[str]:
    # Beat's state (when each scheduled job last ran) lives with the rest of Relasi's state, not in
    # whatever folder the command happens to start in.
    schedule = var_dir / "celerybeat-schedule"
    return [
        PYTHON,
        "-m",
        "celery",
        "-A",
        "config",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
        str(schedule),
        # Celery refuses to start a second beat while this file names a live one: one beat per RELASI_VAR_DIR.
        "--pidfile",
        str(var_dir / "celerybeat.pid"),
        *arguments,
    ]


def _exec(argv: list[str], time_zone: str) -> NoReturn:
    # Django sets TZ from TIME_ZONE only once a process loads the settings: gunicorn's master never does, and
    # Celery logs before it does. Exported here, every line of every process is in the operator's zone.
    os.environ["TZ"] = time_zone
    os.execv(argv[0], argv)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] in ("-h", "--help", "help"):
        print(__doc__)
        if not arguments:
            return
    command, rest = (arguments[0], arguments[1:]) if arguments else ("help", [])
    if command in ("worker", "beat") or (command == "serve" and "--prod" in rest):
        from django.conf import settings

        if command == "worker":
            argv = worker_argv(rest)
        elif command == "beat":
            argv = beat_argv(rest, settings.VAR_DIR)
        else:
            argv = gunicorn_argv([value for value in rest if value != "--prod"], os.environ)
        _exec(argv, settings.TIME_ZONE)
    if command == "serve":
        command = "runserver"
    elif command == "api-key":
        command = "api_key"
    elif command == "import-customers":
        command = "import_customers"

    from django.core.management import execute_from_command_line

    execute_from_command_line(["relasi", command, *rest])


if __name__ == "__main__":
    main()
