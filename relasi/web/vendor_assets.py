"""The third-party front-end libraries Relasi serves, and where `npm ci` puts them (package-lock.json).

One list for two readers, so they cannot drift apart:

- config/settings.py: in a checkout they are served straight from node_modules (STATICFILES_DIRS);
- setup.py: a wheel carries a copy of them in relasi/web/static/, under the same static paths, so an installed
  Relasi has every static file and downloads nothing when it runs.

Third-party code is never committed: the copy exists only in the build folder and the wheel. This module imports
nothing, because setup.py reads it without importing Relasi.
"""

# static path prefix → folder under node_modules
VENDOR_ASSETS: dict[str, str] = {
    "vendor/bootstrap": "bootstrap/dist",
    "vendor/bootstrap-icons": "bootstrap-icons/font",
    "vendor/htmx": "htmx.org/dist",
    "vendor/chartjs": "chart.js/dist",
    "vendor/sortablejs": "sortablejs",
}
