"""The back-office's billing support queue: staff decide an open request from its page (credit with a reason,
mark refunded, cancel), once, through relasi.billing.support; anyone else changes nothing. And the billing lists
around it: payment events, invoices and orders with their filters, and a package's prices added as new rows."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission as AuthPermission
from django.test import Client
from django.utils import timezone

from relasi.accounts.models import User
from relasi.billing.gateways.base import GatewayEvent
from relasi.billing.models import (
    BalanceKind,
    Invoice,
    InvoiceStatus,
    LedgerEntry,
    Package,
    PackagePrice,
    SupportRequest,
    SupportStatus,
)
from relasi.billing.orders import top_up_order_confirm, top_up_order_create
from relasi.billing.payments import payment_event_apply
from relasi.billing.selectors import balances_of
from relasi.billing.support import support_request_tax_create
from relasi.core.models import AuditLog
from relasi.tenancy.models import Workspace

pytestmark = pytest.mark.django_db

QUEUE = "/backoffice/billing/supportrequest/"
# What the sandbox's PAID callback carried, kept on the payment event and shown on the request's page.
PAID_PAYLOAD = {"event_id": "sbx_paid_1", "status": "paid", "amount": 1_443_000, "note": "<late>"}


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_superuser("staff@relasi.test", "Str0ng!Passw0rd", full_name="Staff Relasi")


@pytest.fixture
def staff_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def _invoice(workspace: Workspace, actor: User) -> Invoice:
    # 500 visitors and IDR 1,000,000 of WhatsApp: IDR 1,443,000 with VAT.
    order = top_up_order_create(
        workspace=workspace,
        actor=actor,
        muv_visitors=500,
        whatsapp_amount=1_000_000,
        billing_email="finance@acme.test",
    )
    return top_up_order_confirm(workspace=workspace, actor=actor, order_id=order.pk)


def _callback(
    invoice: Invoice,
    *,
    event_id: str,
    status: str,
    payload: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    payment_event_apply(
        gateway="sandbox",
        event=GatewayEvent(
            event_id=event_id,
            invoice_number=invoice.number,
            status=status,
            amount=invoice.amount_due if status == "paid" else None,
            occurred_at=at or timezone.now(),
            payload=payload or {"event_id": event_id, "status": status},
        ),
    )


def _late_payment(workspace: Workspace, actor: User) -> SupportRequest:
    """An invoice expired, then paid in full an hour after its deadline: the late payment support has to decide."""
    invoice = _invoice(workspace, actor)
    _callback(invoice, event_id="sbx_expired_1", status="expired")
    late = invoice.due_at + timedelta(hours=1)
    _callback(invoice, event_id="sbx_paid_1", status="paid", payload=PAID_PAYLOAD, at=late)
    return SupportRequest.objects.for_workspace(workspace).get(invoice=invoice)


def _decide(client: Client, request: SupportRequest, action: str, reason: str) -> Any:
    """Post a decision as the request's page does, and follow the redirect to the page that shows the message."""
    return client.post(f"{QUEUE}{request.pk}/decide/", {"action": action, "reason": reason}, follow=True)


def _messages(response: Any) -> list[tuple[str, str]]:
    return [(message.tags, str(message)) for message in response.context["messages"]]


# The payload as the pages show it: indented, in key order, escaped (a gateway's text is not HTML).
PAYLOAD_HTML = (
    '<pre class="billing-payload">{\n'
    "  &quot;amount&quot;: 1443000,\n"
    "  &quot;event_id&quot;: &quot;sbx_paid_1&quot;,\n"
    "  &quot;note&quot;: &quot;&lt;late&gt;&quot;,\n"
    "  &quot;status&quot;: &quot;paid&quot;\n"
    "}</pre>"
)


def _headings(html: str) -> list[str]:
    """The page's fieldset headings (the first fieldset, the request itself, has none)."""
    return re.findall(r'(?s)<h2 id="fieldset-[^"]*"[^>]*>(.*?)</h2>', html)


def _balances(workspace: Workspace) -> tuple[int, int]:
    balances = balances_of(workspace=workspace)
    return balances[BalanceKind.MUV].amount, balances[BalanceKind.WHATSAPP].amount


def _invoice_of(request: SupportRequest) -> Invoice:
    """The request's invoice as it is now in the database."""
    assert request.invoice_id is not None
    return Invoice.objects.for_workspace(request.workspace).get(pk=request.invoice_id)


def _state(request: SupportRequest) -> tuple[str, str, str | None]:
    """The request's status and resolution, and its invoice's status."""
    request.refresh_from_db()
    invoice = _invoice_of(request)
    return request.status, request.resolution, invoice.status


def test_staff_credit_a_late_payment_with_a_reason(acme, alice, staff, staff_client) -> None:
    # given a late payment in the queue
    request = _late_payment(acme, alice)
    assert (_state(request), _balances(acme)) == (("open", "", "in_review"), (0, 0))
    # when staff credit it with a reason
    answer = _decide(staff_client, request, "credit", "  Paid 10 minutes late, confirmed with BCA.  ")
    # then they are back on the request's page with the success message
    assert answer.redirect_chain == [(f"{QUEUE}{request.pk}/change/", 302)]
    assert _messages(answer) == [
        (
            "success",
            "Credited: the top-up is on the workspace's balances, with the reason on each ledger entry.",
        )
    ]
    # and the balances rose by the order's lines, each entry carrying the reason and naming staff
    assert _balances(acme) == (500, 1_000_000)
    entries = LedgerEntry.objects.for_workspace(acme).order_by("id")
    reason = "Paid 10 minutes late, confirmed with BCA."
    assert [(e.kind, e.entry_type, e.amount, e.reason, e.reference, e.actor_id) for e in entries] == [
        ("muv", "top_up", 500, reason, f"support:{request.pk}", staff.pk),
        ("whatsapp", "top_up", 1_000_000, reason, f"support:{request.pk}", staff.pk),
    ]
    assert {entry.actor_label for entry in entries} == {"staff@relasi.test"}
    # and the invoice is paid with the money received, the request credited by staff
    invoice = _invoice_of(request)
    assert (invoice.status, invoice.paid_amount) == (InvoiceStatus.PAID, 1_443_000)
    request.refresh_from_db()
    assert (request.status, request.resolution, request.resolved_by) == (
        SupportStatus.CREDITED,
        "Paid 10 minutes late, confirmed with BCA.",
        staff,
    )
    assert request.resolved_at is not None
    assert AuditLog.objects.get(action="support_request.credited").changes == {
        "reason": "Paid 10 minutes late, confirmed with BCA."
    }


def test_crediting_twice_changes_nothing_more_and_says_so(acme, alice, staff_client) -> None:
    # given a late payment staff credited
    request = _late_payment(acme, alice)
    _decide(staff_client, request, "credit", "Confirmed with BCA.")
    # when a second credit is posted (a double click, a second tab)
    answer = _decide(staff_client, request, "credit", "Again.")
    # then it is refused with an error and the balances, the ledger and the decision stay as they were
    assert answer.redirect_chain == [(f"{QUEUE}{request.pk}/change/", 302)]
    assert _messages(answer) == [("error", "This request was already decided: Credited.")]
    assert _balances(acme) == (500, 1_000_000)
    assert LedgerEntry.objects.for_workspace(acme).count() == 2
    assert _state(request) == ("credited", "Confirmed with BCA.", "paid")


@pytest.mark.parametrize(
    ("action", "status", "message"),
    [
        ("refund", "refunded", "Marked refunded: nothing was credited."),
        ("cancel", "cancelled", "Cancelled: nothing was credited."),
    ],
)
def test_refund_and_cancel_close_the_invoice_and_credit_nothing(
    acme, alice, staff, staff_client, action, status, message
) -> None:
    # given a late payment in the queue
    request = _late_payment(acme, alice)
    # when staff mark it refunded, or cancel it
    answer = _decide(staff_client, request, action, "Refunded to the payer's BCA account.")
    # then the invoice is cancelled and nothing is credited
    assert _messages(answer) == [("success", message)]
    assert _state(request) == (status, "Refunded to the payer's BCA account.", "cancelled")
    assert request.resolved_by == staff
    assert _balances(acme) == (0, 0)
    assert LedgerEntry.objects.for_workspace(acme).count() == 0


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_decision_without_a_reason_is_refused_and_changes_nothing(
    acme, alice, staff_client, reason
) -> None:
    request = _late_payment(acme, alice)
    answer = _decide(staff_client, request, "credit", reason)
    assert _messages(answer) == [("error", "Say why: it is kept with the decision.")]
    assert _state(request) == ("open", "", "in_review")
    assert _balances(acme) == (0, 0)


def test_an_unknown_action_a_reason_too_long_or_an_unknown_request_is_refused(
    acme, alice, staff_client
) -> None:
    request = _late_payment(acme, alice)
    assert staff_client.post(f"{QUEUE}999999/decide/", {"action": "credit", "reason": "x"}).status_code == 404
    unknown = _decide(staff_client, request, "approve", "Looks fine.")
    too_long = _decide(staff_client, request, "credit", "x" * 301)
    assert _messages(unknown) == [("error", "Choose credit, mark refunded or cancel.")]
    assert _messages(too_long) == [("error", "At most 300 characters.")]
    assert _state(request) == ("open", "", "in_review")
    assert _balances(acme) == (0, 0)


def test_a_withholding_tax_request_is_credited_the_amounts_asked(acme, alice, staff_client) -> None:
    # given acme, which withholds income tax, asks support for 1,000 visitors and IDR 2,000,000
    acme.withholds_income_tax = True
    acme.save(update_fields=["withholds_income_tax"])
    request = support_request_tax_create(
        workspace=acme, actor=alice, muv_visitors=1_000, whatsapp_amount=2_000_000, message="PPh 23 withheld."
    )
    # when staff credit it
    answer = _decide(staff_client, request, "credit", "Withholding slip received.")
    # then the amounts asked are on the balances
    assert _messages(answer)[0][0] == "success"
    assert _balances(acme) == (1_000, 2_000_000)
    request.refresh_from_db()
    assert (request.status, request.resolution) == ("credited", "Withholding slip received.")


def test_the_workspace_owner_is_sent_to_the_sign_in_page_and_changes_nothing(acme, alice, client_for) -> None:
    # given a late payment, and alice (acme's owner, not platform staff) signed in
    request = _late_payment(acme, alice)
    # when alice posts a credit to the back-office
    answer = _decide(client_for(alice), request, "credit", "Please credit me.")
    # then she is sent to the back-office's sign-in page, and nothing changed
    assert answer.redirect_chain == [(f"/backoffice/login/?next={QUEUE}{request.pk}/decide/", 302)]
    assert _state(request) == ("open", "", "in_review")
    assert _balances(acme) == (0, 0)


def test_staff_without_the_change_permission_get_403_and_see_no_form(acme, alice, client_for) -> None:
    # given a staff member who may only view support requests
    viewer = User.objects.create_user(
        "viewer@relasi.test", "Str0ng!Passw0rd", full_name="Viewer", is_staff=True
    )
    viewer.user_permissions.add(AuthPermission.objects.get(codename="view_supportrequest"))
    request = _late_payment(acme, alice)
    client = client_for(viewer)
    # then the request's page shows no decision form, and a posted decision is refused
    page = client.get(f"{QUEUE}{request.pk}/change/")
    assert page.status_code == 200
    assert 'data-testid="support-decision"' not in page.content.decode()
    assert _decide(client, request, "credit", "Trust me.").status_code == 403
    assert _state(request) == ("open", "", "in_review")


def test_a_decision_needs_the_csrf_token_and_a_post(acme, alice, staff) -> None:
    request = _late_payment(acme, alice)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert _decide(client, request, "credit", "No token.").status_code == 403
    assert client.get(f"{QUEUE}{request.pk}/decide/").status_code == 405
    assert _state(request) == ("open", "", "in_review")


def test_an_open_requests_page_shows_everything_and_the_decision_form(acme, alice, staff_client) -> None:
    request = _late_payment(acme, alice)
    html = staff_client.get(f"{QUEUE}{request.pk}/change/").content.decode()
    invoice = _invoice_of(request)
    # the invoice (linked), who asked, the amounts and the payload, pretty and escaped
    assert f'<a href="/backoffice/billing/invoice/{invoice.pk}/change/">{invoice.number}</a>' in html
    assert "Alice Owner &lt;alice@acme.test&gt;" in html
    assert "1443000" in html
    assert PAYLOAD_HTML in html
    assert _headings(html) == ["Invoice", "Payment"]
    # and the decision form, posting to the decide URL with its token
    assert f'action="{QUEUE}{request.pk}/decide/"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert (
        '<textarea name="reason" id="id_decision_reason" rows="3" cols="60" maxlength="300" required' in html
    )
    for value in ("credit", "refund", "cancel"):
        assert f'<option value="{value}">' in html


def test_a_decided_requests_page_shows_the_decision_and_no_form(acme, alice, staff_client) -> None:
    request = _late_payment(acme, alice)
    _decide(staff_client, request, "cancel", "Settled by bank transfer.")
    html = staff_client.get(f"{QUEUE}{request.pk}/change/").content.decode()
    assert 'data-testid="support-decision"' not in html
    assert "Staff Relasi &lt;staff@relasi.test&gt;" in html
    assert _headings(html) == ["Invoice", "Payment", "Decision"]
    assert '<div class="readonly">Settled by bank transfer.</div>' in html


def test_the_queue_lists_open_requests_first_with_filters_and_search(
    acme, alice, globex, charlie, staff_client
) -> None:
    # given a cancelled late payment of acme, then an open one of globex, then an open withholding-tax one of acme
    decided = _late_payment(acme, alice)
    _decide(staff_client, decided, "cancel", "Duplicate.")
    late = _late_payment(globex, charlie)
    acme.withholds_income_tax = True
    acme.save(update_fields=["withholds_income_tax"])
    tax = support_request_tax_create(workspace=acme, actor=alice, muv_visitors=1_000, whatsapp_amount=0)
    # when staff open the queue
    page = staff_client.get(QUEUE)
    # then the open requests come first, newest first, and the decided one last
    assert page.status_code == 200
    assert [row.pk for row in page.context["cl"].result_list] == [tax.pk, late.pk, decided.pk]
    # and the filters and the search narrow it
    open_late = staff_client.get(QUEUE, {"status__exact": "open", "kind__exact": "late_payment"})
    assert [row.pk for row in open_late.context["cl"].result_list] == [late.pk]
    by_number = staff_client.get(QUEUE, {"q": _invoice_of(decided).number})
    assert [row.pk for row in by_number.context["cl"].result_list] == [decided.pk]
    by_workspace = staff_client.get(QUEUE, {"q": "globex"})
    assert [row.pk for row in by_workspace.context["cl"].result_list] == [late.pk]
    # and nothing can be added or deleted there
    assert staff_client.get(f"{QUEUE}add/").status_code == 403
    assert staff_client.get(f"{QUEUE}{late.pk}/delete/").status_code == 403


def test_the_billing_lists_render_with_their_filters(acme, alice, staff_client) -> None:
    request = _late_payment(acme, alice)
    invoice = _invoice_of(request)
    number = invoice.number
    events = staff_client.get(
        "/backoffice/billing/paymentevent/",
        {"gateway": "sandbox", "status__exact": "paid", "outcome__exact": "support"},
    )
    assert events.status_code == 200
    assert [row.event_id for row in events.context["cl"].result_list] == ["sbx_paid_1"]
    event = events.context["cl"].result_list[0]
    event_page = staff_client.get(f"/backoffice/billing/paymentevent/{event.pk}/change/")
    assert PAYLOAD_HTML in event_page.content.decode()
    invoices = staff_client.get(
        "/backoffice/billing/invoice/",
        {"status__exact": "in_review", "gateway": "", "q": number},
    )
    assert [row.number for row in invoices.context["cl"].result_list] == [number]
    by_method = staff_client.get("/backoffice/billing/invoice/", {"payment_method__exact": "card"})
    assert list(by_method.context["cl"].result_list) == []
    invoice_page = staff_client.get(f"/backoffice/billing/invoice/{invoice.pk}/change/")
    assert invoice_page.status_code == 200
    orders = staff_client.get("/backoffice/billing/topuporder/", {"status__exact": "confirmed"})
    assert orders.status_code == 200
    assert len(orders.context["cl"].result_list) == 1


def _package_form(package: Package, prices: list[PackagePrice], new: list[dict[str, str]]) -> dict[str, str]:
    """The Package page's form as the browser posts it: the package, its saved prices (shown read-only, so only
    their ids are posted) and the new price rows."""
    data = {
        "name": package.name,
        "price": str(package.price),
        "term": package.term,
        "muv_allowance": str(package.muv_allowance),
        "whatsapp_allowance": str(package.whatsapp_allowance),
        "resets_monthly": "on",
        "active": "on",
        "prices-TOTAL_FORMS": str(len(prices) + len(new)),
        "prices-INITIAL_FORMS": str(len(prices)),
        "prices-MIN_NUM_FORMS": "0",
        "prices-MAX_NUM_FORMS": "1000",
    }
    for index, price in enumerate(prices):
        data[f"prices-{index}-id"] = str(price.pk)
        data[f"prices-{index}-package"] = str(package.pk)
    for index, row in enumerate(new, start=len(prices)):
        data.update({f"prices-{index}-{name}": value for name, value in row.items()})
        data[f"prices-{index}-package"] = str(package.pk)
    return data


def test_a_package_gets_a_new_price_row_and_the_old_one_stays(staff_client) -> None:
    # given a package with its price from January
    package = Package.objects.create(
        name="Growth", price=500_000, muv_allowance=1_000, whatsapp_allowance=200_000
    )
    january = PackagePrice.objects.create(package=package, price=500_000, effective_from=date(2026, 1, 1))
    url = f"/backoffice/billing/package/{package.pk}/change/"
    # when staff add a price from next January, and try to post another price for this January's row
    data = _package_form(package, [january], [{"price": "600000", "effective_from": "2027-01-01"}])
    data["prices-0-price"] = "1"
    answer = staff_client.post(url, data)
    # then the new row is added, and January's stays as it was
    assert answer.status_code == 302
    assert list(PackagePrice.objects.filter(package=package).values_list("effective_from", "price")) == [
        (date(2027, 1, 1), 600_000),
        (date(2026, 1, 1), 500_000),
    ]
    # and the page shows the saved rows read-only, with no delete box
    html = staff_client.get(url).content.decode()
    assert 'name="prices-0-price"' not in html
    assert 'name="prices-0-DELETE"' not in html


def test_a_price_starting_in_the_past_is_refused(staff_client) -> None:
    package = Package.objects.create(
        name="Growth", price=500_000, muv_allowance=1_000, whatsapp_allowance=200_000
    )
    data = _package_form(package, [], [{"price": "600000", "effective_from": "2026-07-01"}])
    answer = staff_client.post(f"/backoffice/billing/package/{package.pk}/change/", data)
    assert answer.status_code == 200
    assert "A new price starts today or later." in answer.content.decode()
    assert PackagePrice.objects.filter(package=package).count() == 0


def test_a_second_price_on_the_same_date_is_refused(staff_client) -> None:
    package = Package.objects.create(
        name="Growth", price=500_000, muv_allowance=1_000, whatsapp_allowance=200_000
    )
    january = PackagePrice.objects.create(package=package, price=500_000, effective_from=date(2026, 1, 1))
    data = _package_form(package, [january], [{"price": "600000", "effective_from": "2026-01-01"}])
    answer = staff_client.post(f"/backoffice/billing/package/{package.pk}/change/", data)
    assert answer.status_code == 200
    assert list(PackagePrice.objects.filter(package=package).values_list("price", flat=True)) == [500_000]
