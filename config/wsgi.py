import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# What a process makes while it starts (modules, URL patterns, API schemas) lives as long as the process. Moved
# out of the garbage collector's sight, it no longer makes each full collection walk it: tens of milliseconds
# every few seconds under load, the slowest requests of the event API (docs/benchmarks.md), become a few.
get_resolver().url_patterns  # noqa: B018  (loads every URL pattern and the API now, not on the first request)
gc.collect()
gc.freeze()
