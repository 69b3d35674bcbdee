"""Runs one customer import in its own process, so the benchmark can measure that process's peak memory.

`python -m bench.import_child --file F --workspace SLUG --actor EMAIL` prints one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", required=True, type=Path)
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--actor", required=True, help="Email of the user the import runs as.")
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.test import override_settings

    from bench.imports import import_file

    # As in production: DEBUG off, so no query log grows with the number of batches.
    with override_settings(DEBUG=False):
        result = import_file(
            path=arguments.file, workspace_slug=arguments.workspace, actor_email=arguments.actor
        )
    result["self_peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
