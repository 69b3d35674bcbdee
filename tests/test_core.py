from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from relasi.core import timeranges
from relasi.core.audit import Actor, audit_record
from relasi.core.emails import email_send_templated
from relasi.core.inputs import (
    NUMBER_STYLE_SAMPLES,
    number_checked,
    number_style_detect,
    number_style_for_language,
    number_text,
)
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
        "recover-waiting-webhook-events": "relasi.interactions.tasks.webhook_events_recover_task",
        "open-billing-periods": "relasi.billing.tasks.periods_open_due_task",
        "expire-invoices": "relasi.billing.tasks.invoices_expire_due_task",
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


# --- Numbers as people write them (relasi.core.inputs) -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "style", "number"),
    [
        # plain, the API's machine form
        ("1500000", "plain", 1_500_000),
        ("-2.5", "plain", -2.5),
        ("1e6", "plain", 1_000_000),
        ("1.500", "plain", 1.5),
        # Indonesian: dots group thousands, a comma writes decimals
        ("1.500.000", "id", 1_500_000),
        ("1.000.000", "id", 1_000_000),
        ("1.500", "id", 1500),
        ("-1.500", "id", -1500),
        ("2,5", "id", 2.5),
        ("1.500.000,75", "id", 1_500_000.75),
        ("1500000,75", "id", 1_500_000.75),
        ("Rp 1.500.000", "id", 1_500_000),
        ("-Rp 5.000", "id", -5000),
        # ...and the plain forms it cannot read as grouped
        ("2.5", "id", 2.5),
        ("1234.5", "id", 1234.5),
        ("1500000", "id", 1_500_000),
        ("1e6", "id", 1_000_000),
        # English: commas group thousands, a point writes decimals, every plain form is plain
        ("1,500,000", "en", 1_500_000),
        ("1,500", "en", 1500),
        ("2.5", "en", 2.5),
        ("1,500,000.75", "en", 1_500_000.75),
        ("1.500", "en", 1.5),
        ("Rp 1,500,000", "en", 1_500_000),
    ],
)
def test_a_number_reads_as_its_style_writes_it(text: str, style: str, number: int | float) -> None:
    read = number_checked(text, style=style)
    assert read == number
    assert type(read) is type(number)


@pytest.mark.parametrize(
    ("text", "style", "code", "message"),
    [
        ("1.500.000", "plain", "number", "“1.500.000” is not a number: write it like 1500000 or -2.5."),
        ("2,5", "plain", "number", "“2,5” is not a number: write it like 1500000 or -2.5."),
        ("Rp 5000", "plain", "number", "“Rp 5000” is not a number: write it like 1500000 or -2.5."),
        ("1_000", "plain", "number", "“1_000” is not a number: write it like 1500000 or -2.5."),
        (
            "1.50.000",
            "id",
            "number_grouping",
            "“1.50.000” is not grouped in thousands: write it like 1.500.000 or 2,5.",
        ),
        (
            "1234.567",
            "id",
            "number_grouping",
            "“1234.567” is not grouped in thousands: write it like 1.500.000 or 2,5.",
        ),
        (
            "0.500",
            "id",
            "number_grouping",
            "“0.500” is not grouped in thousands: write it like 1.500.000 or 2,5.",
        ),
        (
            "1.5.2",
            "id",
            "number_grouping",
            "“1.5.2” is not grouped in thousands: write it like 1.500.000 or 2,5.",
        ),
        ("1,500.5", "id", "number", "“1,500.5” is not a number: write it like 1.500.000 or 2,5."),
        (
            "1,50,000",
            "en",
            "number_grouping",
            "“1,50,000” is not grouped in thousands: write it like 1,500,000 or 2.5.",
        ),
        ("2,5", "en", "number", "“2,5” is not a number: write it like 1,500,000 or 2.5."),
        ("1.500,5", "en", "number", "“1.500,5” is not a number: write it like 1,500,000 or 2.5."),
        ("--5", "id", "number", "“--5” is not a number: write it like 1.500.000 or 2,5."),
        ("NaN", "en", "number", "“NaN” is not a number: write it like 1,500,000 or 2.5."),
    ],
)
def test_a_number_written_otherwise_is_refused_naming_the_form_expected(
    text: str, style: str, code: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        number_checked(text, style=style)
    assert refused.value.code == code
    assert refused.value.messages == [message]


@pytest.mark.parametrize(
    ("text", "style"),
    [
        *[
            (text, style)
            for style in ("plain", "id", "en")
            for text in ("1e400000", "9" * 5000, "1e-7", "1e15")
        ],
        ("1000000000000000", "plain"),
        ("1.000.000.000.000.000", "id"),
        ("0,0000001", "id"),
        ("1,000,000,000,000,000", "en"),
        ("-Rp 1.000.000.000.000.000", "id"),
        # 16 significant digits: a stored number would round the last one away
        ("123456789012345.5", "plain"),
        ("123.456.789.012.345,5", "id"),
        ("1,234,567,890.123456", "en"),
    ],
)
def test_the_bounds_hold_in_every_style(text: str, style: str) -> None:
    with pytest.raises(ValidationError) as refused:
        number_checked(text, style=style)
    assert refused.value.code == "number_range"


def test_numbers_sent_as_numbers_are_read_whatever_the_style() -> None:
    # a float's own digits, never text read in a style: 1.123 stays 1.123 in Indonesian
    assert [number_checked(value, style="id") for value in (1.123, 1500, Decimal("2.50"))] == [
        1.123,
        1500,
        2.5,
    ]
    with pytest.raises(ValidationError) as refused:
        number_checked(10**5000, style="id")
    assert refused.value.code == "number_range"
    with pytest.raises(ValidationError):
        number_checked(True, style="en")


# Every number within the bounds: up to 15 significant digits, at most 6 of them after the point.
bounded_numbers = st.builds(
    lambda digits, places: Decimal(digits).scaleb(-places),
    st.integers(min_value=-(10**15 - 1), max_value=10**15 - 1),
    st.integers(min_value=0, max_value=6),
)


@given(number=bounded_numbers, style=st.sampled_from(["plain", "id", "en"]))
def test_a_number_written_in_a_style_reads_back_as_the_same_number(number: Decimal, style: str) -> None:
    written = number_text(number, style=style)
    # the very value comes back, as a stored (JSON) number holds it
    assert Decimal(repr(number_checked(written, style=style))) == number


@pytest.mark.parametrize("style", ["plain", "id", "en"])
def test_a_line_break_inside_a_number_is_refused_as_not_a_number(style: str) -> None:
    # a spreadsheet cell can hold "0\n0": the sign and currency prefix were read past it, then an assertion failed
    with pytest.raises(ValidationError) as refused:
        number_checked("0\n0", style=style)
    assert refused.value.code == "number"


def test_a_number_of_sixteen_digits_is_refused_not_rounded() -> None:
    # given a value a double cannot hold exactly (it would be stored as 123456789012345.12)
    with pytest.raises(ValidationError) as refused:
        number_checked("123456789012345.123456")
    # then it is refused with the rule, never silently changed
    assert refused.value.code == "number_range"
    assert refused.value.message % refused.value.params == (
        "“123456789012345.123456” is out of range: use a number from -999,999,999,999,999 to "
        "999,999,999,999,999 with at most 6 decimals and 15 digits in all."
    )
    # and fifteen digits are kept exactly, whole or with decimals
    assert number_checked("123456789.012345") == 123456789.012345
    assert number_checked("999999999999999") == 999999999999999


@pytest.mark.parametrize(
    ("number", "plain", "indonesian", "english"),
    [
        (1_500_000, "1500000", "1.500.000", "1,500,000"),
        (-1_500_000.75, "-1500000.75", "-1.500.000,75", "-1,500,000.75"),
        (0.000001, "0.000001", "0,000001", "0.000001"),
        (999, "999", "999", "999"),
        (1e15 - 1, "999999999999999", "999.999.999.999.999", "999,999,999,999,999"),
    ],
)
def test_number_text_writes_each_style(number: float, plain: str, indonesian: str, english: str) -> None:
    assert [number_text(number, style=style) for style in ("plain", "id", "en")] == [
        plain,
        indonesian,
        english,
    ]


@pytest.mark.parametrize(
    ("samples", "style"),
    [
        (["1.500.000", "250.000", "75.000"], "id"),
        (["2,5", "10", "7,25"], "id"),
        (["1.500", "2.000", "750"], "id"),  # dots before three digits: thousands, in Indonesian
        (["1,500,000", "250,000"], "en"),
        (["1,500", "2,000", "750"], "en"),
        (["1,500.75"], "en"),
        (["1500000", "2.5", "-3"], "plain"),  # every style reads these the same
        (["1.500.000", "1,500,000"], "plain"),  # a tie
        (["", "  ", "n/a"], "plain"),  # nothing to go on
        (["1.500.000", "2.000.000", "1,500"], "id"),  # clear votes before weak ones
    ],
)
def test_the_style_of_a_column_is_detected_from_its_values(samples: list[str], style: str) -> None:
    assert number_style_detect(samples) == style


def test_detection_reads_only_the_first_values() -> None:
    samples = ["1.500"] * NUMBER_STYLE_SAMPLES + ["1,500,000"] * (NUMBER_STYLE_SAMPLES + 1)
    assert number_style_detect(iter(samples)) == "id"


@pytest.mark.parametrize(("language", "style"), [("id", "id"), ("en", "en"), ("en-us", "en"), (None, "en")])
def test_a_page_reads_numbers_in_its_language(language: str | None, style: str) -> None:
    assert number_style_for_language(language) == style


def test_rupiah_in_the_english_grouping() -> None:
    assert [format_rupiah(amount, thousands=",") for amount in (1_500_000, -5000)] == [
        "Rp 1,500,000",
        "-Rp 5,000",
    ]
