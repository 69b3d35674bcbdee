"""The `relasi` command: friendly names for the common tasks, and every manage.py command besides.

relasi serve [--prod] [ADDRPORT]   development server, or gunicorn with --prod
relasi worker                      Celery worker with the beat scheduler
relasi demo                        load the demo data (safe to repeat)
relasi api-key create --workspace SLUG --name NAME
relasi import-customers FILE --workspace SLUG
relasi bench customers --rows N
relasi <any manage.py command>
"""

from __future__ import annotations

import os
import sys


def _gunicorn(arguments: list[str]) -> None:
    bind = arguments[0] if arguments else os.environ.get("BIND", "127.0.0.1:8000")
    workers = os.environ.get("WEB_CONCURRENCY", "3")
    os.execvp(
        "gunicorn",
        [
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            bind,
            "--workers",
            workers,
            "--access-logfile",
            "-",
        ],
    )


def _celery(arguments: list[str]) -> None:
    os.execvp("celery", ["celery", "-A", "config", "worker", "--beat", "--loglevel", "INFO", *arguments])


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] in ("-h", "--help", "help"):
        print(__doc__)
        if not arguments:
            return
    command, rest = (arguments[0], arguments[1:]) if arguments else ("help", [])
    if command == "serve":
        if "--prod" in rest:
            _gunicorn([value for value in rest if value != "--prod"])
            return
        command, rest = "runserver", rest
    elif command == "worker":
        _celery(rest)
        return
    elif command == "api-key":
        command = "api_key"
    elif command == "import-customers":
        command = "import_customers"

    from django.core.management import execute_from_command_line

    execute_from_command_line(["relasi", command, *rest])


if __name__ == "__main__":
    main()
