from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from relasi.core import timeranges
from relasi.core.audit import Actor, audit_record
from relasi.core.emails import email_send_templated
from relasi.core.models import AuditLog
from relasi.core.money import format_rupiah, percent_of
from relasi.core.pagination import InvalidCursor, cursor_decode, cursor_encode

JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "Rp 0"), (999, "Rp 999"), (1000, "Rp 1.000"), (1_000_000, "Rp 1.000.000"), (-5000, "-Rp 5.000")],
)
def test_rupiah_format(amount: int, text: str) -> None:
    assert format_rupiah(amount) == text


@pytest.mark.parametrize(
    ("amount", "rate", "expected"),
    [
        (1_000_000, "3.5", 35_000),
        (1_000_001, "3.5", 35_000),  # 35000.035 rounds down
        (100, "0.5", 1),  # 0.5 rounds half up
        (300, "0.5", 2),  # 1.5 → 2
        (-100, "0.5", -1),  # symmetric for refunds
        (995_000, "11", 109_450),
        (123_457, "2.5", 3_086),  # 3086.425 → 3086
    ],
)
def test_percent_of_rounds_half_up_to_the_rupiah(amount: int, rate: str, expected: int) -> None:
    assert percent_of(amount=amount, rate_percent=Decimal(rate)) == expected


def test_percent_of_refuses_floats() -> None:
    with pytest.raises(TypeError):
        percent_of(amount=1000, rate_percent=3.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        percent_of(amount=1000.0, rate_percent="3.5")  # type: ignore[arg-type]


rates = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False)
amounts = st.integers(min_value=0, max_value=10**13)


@given(amount=amounts, rate=rates)
def test_percent_is_an_integer_within_half_a_rupiah_of_the_exact_value(amount: int, rate: Decimal) -> None:
    result = percent_of(amount=amount, rate_percent=rate)
    exact = Decimal(amount) * rate / 100
    assert isinstance(result, int)
    assert abs(Decimal(result) - exact) <= Decimal("0.5")
    assert 0 <= result <= amount


@given(amount=amounts, low=rates, high=rates)
def test_percent_grows_with_the_rate(amount: int, low: Decimal, high: Decimal) -> None:
    low, high = sorted((low, high))
    assert percent_of(amount=amount, rate_percent=low) <= percent_of(amount=amount, rate_percent=high)


@given(amount=amounts, rate=rates)
def test_percent_is_symmetric_for_negative_amounts(amount: int, rate: Decimal) -> None:
    assert percent_of(amount=-amount, rate_percent=rate) == -percent_of(amount=amount, rate_percent=rate)


def test_today_is_the_workspace_day_not_the_utc_day() -> None:
    # 17:30 UTC on 1 March is 00:30 on 2 March in Jakarta
    now = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
    window = timeranges.range_today(zone=JAKARTA, now=now)
    assert window.start == datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    assert window.contains(datetime(2026, 3, 1, 17, 0, tzinfo=UTC))
    assert not window.contains(datetime(2026, 3, 1, 16, 59, 59, tzinfo=UTC))


def test_last_seven_days_include_today_and_the_six_before() -> None:
    window = timeranges.range_last_days(days=7, zone=JAKARTA, now=datetime(2026, 3, 10, 5, 0, tzinfo=UTC))
    assert window.start == datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


def test_month_and_custom_ranges() -> None:
    december = timeranges.range_month(year=2026, month=12, zone=JAKARTA)
    assert (december.start, december.end) == (
        datetime(2026, 11, 30, 17, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 17, 0, tzinfo=UTC),
    )
    custom = timeranges.range_custom(first_day=date(2026, 1, 5), last_day=date(2026, 1, 5), zone=JAKARTA)
    assert (custom.start, custom.end) == (
        datetime(2026, 1, 4, 17, 0, tzinfo=UTC),
        datetime(2026, 1, 5, 17, 0, tzinfo=UTC),
    )
    with pytest.raises(ValueError):
        timeranges.range_custom(first_day=date(2026, 1, 6), last_day=date(2026, 1, 5), zone=JAKARTA)


@pytest.mark.django_db(transaction=True)
def test_audit_record_needs_the_transaction_of_the_change(acme, alice) -> None:
    with pytest.raises(RuntimeError):
        audit_record(workspace=acme, actor=alice, action="x", target=acme)


def test_audit_record_keeps_actor_action_target_and_changes(acme, alice) -> None:
    with transaction.atomic():
        entry = audit_record(
            workspace=acme, actor=alice, action="workspace.renamed", target=acme, changes={"name": ["A", "B"]}
        )
    assert (entry.actor_label, entry.action, entry.target_type, entry.target_id, entry.changes) == (
        "alice@acme.test",
        "workspace.renamed",
        "tenancy.workspace",
        str(acme.pk),
        {"name": ["A", "B"]},
    )
    with transaction.atomic():
        system = audit_record(workspace=acme, actor=Actor(system="purge"), action="x", target=acme)
    assert system.actor_label == "system:purge"
    assert system.actor is None


def test_audit_row_rolls_back_with_the_change(acme, alice) -> None:
    before = AuditLog.objects.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        audit_record(workspace=acme, actor=alice, action="x", target=acme)
        1 / 0  # noqa: B018
    assert AuditLog.objects.count() == before


def test_templated_email_is_sent_after_commit_only(db, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        email_send_templated(
            to=["a@relasi.test"],
            template="password_reset",
            context={"full_name": "A", "reset_url": "http://x/r"},
        )
        assert mail.outbox == []
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Choose a new Relasi password"
    assert "Hello A," in message.body
    assert message.alternatives[0][1] == "text/html"
    assert '<a href="http://x/r">' in message.alternatives[0][0]


def test_templated_email_in_bahasa_indonesia(db, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        email_send_templated(
            to=["a@relasi.test"],
            template="password_reset",
            context={"full_name": "A", "reset_url": "u"},
            language="id",
        )
    assert mail.outbox[0].subject == "Pilih kata sandi Relasi yang baru"


def test_nothing_is_sent_when_the_transaction_rolls_back(db, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValueError), transaction.atomic():
        email_send_templated(
            to=["a@relasi.test"], template="password_reset", context={"full_name": "A", "reset_url": "u"}
        )
        raise ValueError
    assert mail.outbox == []


def test_cursor_round_trip_and_tampering() -> None:
    moment = datetime(2026, 3, 1, 1, 2, 3, tzinfo=UTC)
    assert cursor_decode(cursor_encode([moment, 42]), length=2) == [moment, 42]
    with pytest.raises(InvalidCursor):
        cursor_decode("not-a-cursor!!", length=2)
    with pytest.raises(InvalidCursor):
        cursor_decode(cursor_encode([1]), length=2)


def test_idempotency_keys_are_forgotten_after_24_hours(acme) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from relasi.core.models import IdempotentRequest
    from relasi.core.tasks import idempotent_requests_purge_task

    old = IdempotentRequest.objects.create(
        workspace=acme, key="a", endpoint="e", request_hash="h", status_code=201, response_body={}
    )
    IdempotentRequest.unscoped.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=24, seconds=1)
    )
    fresh = IdempotentRequest.objects.create(
        workspace=acme, key="b", endpoint="e", request_hash="h", status_code=201, response_body={}
    )
    assert idempotent_requests_purge_task.delay().get() == 1
    assert list(IdempotentRequest.unscoped.values_list("pk", flat=True)) == [fresh.pk]


def test_every_scheduled_job_names_a_registered_task(settings) -> None:
    from config.celery import app

    app.loader.import_default_modules()
    schedule = {name: entry["task"] for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}
    assert schedule == {
        "purge-deleted-customers": "relasi.customers.tasks.customers_purge_deleted_task",
        "purge-idempotency-keys": "relasi.core.tasks.idempotent_requests_purge_task",
        "recover-stalled-jobs": "relasi.customers.tasks.customer_jobs_recover_task",
    }
    assert all(task in app.tasks for task in schedule.values())


def test_favicon_ico_leads_to_the_icon(db) -> None:
    from django.test import Client

    response = Client().get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/relasi/favicon.svg"
    assert Client().get(response["Location"]).status_code == 200


def test_ids_from_a_client_are_only_what_a_database_id_can_be() -> None:
    from relasi.core.ids import LARGEST_ID, ids_parse

    assert ids_parse(
        ["3", " 7 ", "3", "²", "１", "-1", "0", "x", str(LARGEST_ID), str(LARGEST_ID + 1), "9" * 30]
    ) == [
        3,
        7,
        LARGEST_ID,
    ]


def test_odd_ids_in_a_page_form_are_ignored_not_a_500(acme, alice, client_for) -> None:
    from django.urls import reverse

    from relasi.customers.models import Customer

    customer = Customer.objects.create(workspace=acme, full_name="Budi", phone="+6281234567890")
    client = client_for(alice)
    deleted = client.post(
        reverse("customers:delete", kwargs={"workspace_slug": "acme"}), {"ids": ["²", "9" * 19]}
    )
    assert deleted.status_code == 302
    created = client.post(
        reverse("customers:new", kwargs={"workspace_slug": "acme"}),
        {"full_name": "Budi 2", "phone": "081234567890", "confirm_duplicate": f"²,{'9' * 19},{customer.pk}"},
    )
    assert created.status_code == 302
    assert Customer.objects.for_workspace(acme).filter(deleted_at__isnull=True).count() == 2
