"""Celery tasks of billing: thin wrappers around its services."""

from __future__ import annotations

from celery import shared_task


@shared_task
def periods_open_due_task() -> int:
    from relasi.billing.periods import periods_open_due

    return periods_open_due()


@shared_task
def invoices_expire_due_task() -> int:
    from relasi.billing.orders import invoices_expire_due

    return invoices_expire_due()
