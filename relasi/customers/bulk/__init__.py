"""Bulk actions on customers: a job on the ticked rows or on every customer the list's filters select.

`models_bulk` (the BulkJob model, imported by relasi.customers.models), `selectors` (the selection, the jobs),
`services` (prepare, confirm, run, undo), `forms` (the confirmation's value field), `tasks` and `api`.
Nothing is imported here: models.py imports `models_bulk` while the app registry loads.
"""
