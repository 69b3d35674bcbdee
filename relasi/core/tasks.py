from __future__ import annotations

from typing import Any

from celery import shared_task

from relasi.core.emails import email_deliver


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_templated_email_task(
    *, to: list[str], template: str, context: dict[str, Any], language: str
) -> None:
    email_deliver(to=to, template=template, context=context, language=language)


@shared_task
def idempotent_requests_purge_task() -> int:
    from relasi.core.idempotency import idempotent_requests_purge

    return idempotent_requests_purge()
