"""Templated emails (HTML + text), sent by a Celery task after the transaction commits."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation


def site_link(path: str) -> str:
    """The absolute address of `path` for an email: always `RELASI_SITE_URL`, never the host a request came to
    (a forged Host header must not put another site's address into a password link)."""
    return f"{settings.RELASI_SITE_URL.rstrip('/')}{path}"


def email_render(*, template: str, context: dict[str, Any], language: str) -> tuple[str, str, str]:
    """Render `emails/<template>_subject.txt`, `.txt` and `.html` in the given language."""
    full_context = {"site_url": site_link("/"), **context}
    with translation.override(language):
        subject = render_to_string(f"emails/{template}_subject.txt", full_context).strip()
        text = render_to_string(f"emails/{template}.txt", full_context)
        html = render_to_string(f"emails/{template}.html", full_context)
    return " ".join(subject.split()), text, html


def email_deliver(*, to: list[str], template: str, context: dict[str, Any], language: str) -> None:
    subject, text, html = email_render(template=template, context=context, language=language)
    message = EmailMultiAlternatives(subject=subject, body=text, to=to)
    message.attach_alternative(html, "text/html")
    message.send()


def email_send_templated(
    *, to: list[str], template: str, context: dict[str, Any], language: str | None = None
) -> None:
    """Queue an email for after the current transaction commits; nothing is sent on rollback.

    The context must be JSON-serialisable: it travels to the worker through the broker.
    """
    from relasi.core.tasks import send_templated_email_task

    chosen_language = language or translation.get_language() or settings.LANGUAGE_CODE
    transaction.on_commit(
        lambda: send_templated_email_task.delay(
            to=to, template=template, context=context, language=chosen_language
        )
    )
