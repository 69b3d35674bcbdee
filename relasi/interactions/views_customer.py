"""The customer detail page (the article's "View details"): the name, a details card edited in place, the activity
log counts, the activity timeline, and the interaction tabs (Chat, Broadcast, Company, Ticket, Sales, Tasks), each
with its filters, "Associate existing" through a search picker and "Create new". Every part is an htmx fragment
with its own URL; a tab's URL opens the whole page on that tab."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relasi.core.formatting import EMPTY
from relasi.core.inputs import number_style_for_language
from relasi.core.pagination import InvalidCursor
from relasi.customers import selectors as customer_selectors
from relasi.customers import services as customer_services
from relasi.customers.forms import CustomerForm
from relasi.customers.models import Customer
from relasi.interactions import selectors, services
from relasi.interactions.filters import ID_MAX_DIGITS
from relasi.interactions.kinds import KINDS
from relasi.interactions.models import Kind
from relasi.interactions.views_records import SEARCH_MAX, record_form, records_context
from relasi.interactions.views_shared import NEW_LABELS, PLURALS, TAB_LABELS, names_of
from relasi.interactions.views_timeline import timeline_lines
from relasi.tenancy.access import workspace_page
from relasi.tenancy.requests import WorkspacePageRequest

# What changes the activity log and the timeline: the tab's answer tells the page to reload them.
ACTIVITY_CHANGED = "activity-changed"
COUNTED = (
    (Kind.CONVERSATION, "Chats"),
    (Kind.TICKET, "Tickets"),
    (Kind.DEAL, "Deals"),
    (Kind.TASK, "Tasks"),
)


def _customer(request: WorkspacePageRequest, customer_id: int) -> Customer:
    # A deleted customer's page is a 404, as its edit page is.
    return customer_selectors.customer_get(workspace=request.workspace, customer_id=customer_id)


def _url(name: str, request: WorkspacePageRequest, customer: Customer, **kwargs: Any) -> str:
    return reverse(
        f"interactions:{name}",
        kwargs={"workspace_slug": request.workspace.slug, "customer_id": customer.pk, **kwargs},
    )


def _customer_form(request: WorkspacePageRequest, customer: Customer) -> CustomerForm:
    return CustomerForm(
        request.POST if request.method == "POST" else None,
        workspace=request.workspace,
        customer=customer,
        number_style=number_style_for_language(translation.get_language()),
    )


def _shown(field: forms.BoundField) -> str:
    """A field of the details card as text: a choice by its label, a value by itself, "—" for nothing."""
    value = field.value()
    choices = getattr(field.field, "choices", None)
    if choices is not None:
        labels = {str(key): str(label) for key, label in choices if key not in ("", None)}
        chosen = value if isinstance(value, list) else [value]
        texts = [labels.get(str(item), str(item)) for item in chosen if item not in (None, "")]
        return ", ".join(texts) or EMPTY
    return str(value) if value not in (None, "") else EMPTY


def _card(
    request: WorkspacePageRequest, customer: Customer, *, form: CustomerForm | None = None, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "customer": customer,
        "edit_url": _url("customer_card_edit", request, customer),
    }
    if form is not None:
        context.update(form=form, cancel_url=_url("customer_card", request, customer))
        return render(request, "interactions/_customer_card_form.html", context, status=status)
    shown = _customer_form(request, customer)
    context["rows"] = [
        (field.label, _shown(field)) for field in [*shown.default_fields, *shown.additional_fields]
    ]
    return render(request, "interactions/_customer_card.html", context, status=status)


def _activity_context(
    request: WorkspacePageRequest, customer: Customer, cursor: str | None = None
) -> dict[str, Any]:
    workspace = request.workspace
    counts = selectors.customer_activity_counts(workspace=workspace, customer=customer)
    labels = {"Chats": _("Chats"), "Tickets": _("Tickets"), "Deals": _("Deals"), "Tasks": _("Tasks")}
    try:
        page = customer_selectors.customer_timeline_page(
            workspace=workspace, customer=customer, cursor=cursor
        )
    except InvalidCursor:
        page = customer_selectors.customer_timeline_page(workspace=workspace, customer=customer, cursor=None)
    timeline_url = _url("customer_timeline", request, customer)
    return {
        "customer": customer,
        "counts": [
            (labels[label], counts[kind], _url("customer_tab", request, customer, kind=kind))
            for kind, label in COUNTED
        ],
        "lines": timeline_lines(workspace=workspace, entries=page.items),
        "more_url": f"{timeline_url}?cursor={page.next_cursor}" if page.next_cursor else None,
        "timeline_url": timeline_url,
    }


def _tab_context(request: WorkspacePageRequest, customer: Customer, kind: str) -> dict[str, Any]:
    tab_url = _url("customer_tab", request, customer, kind=kind)
    context = records_context(request, kind=kind, base_url=tab_url, customer=customer)
    context.update(
        customer=customer,
        tabs=[
            (tab_kind, TAB_LABELS[tab_kind], _url("customer_tab", request, customer, kind=tab_kind))
            for tab_kind in PLURALS
        ],
        tab_label=TAB_LABELS[kind],
        new_label=NEW_LABELS[kind],
        picker_url=_url("customer_tab_picker", request, customer, kind=kind),
        associate_url=_url("customer_tab_associate", request, customer, kind=kind),
        new_url=_url("customer_tab_new", request, customer, kind=kind),
        remove_prefix=_url("customer_tab_remove", request, customer, kind=kind, record_id=0).removesuffix(
            "0/remove/"
        ),
        is_campaigns=kind == Kind.CAMPAIGN,
    )
    return context


def _tab(
    request: WorkspacePageRequest,
    customer: Customer,
    kind: str,
    *,
    notice: str = "",
    error: str = "",
    changed: bool = False,
    status: int | None = None,
) -> HttpResponse:
    context = _tab_context(request, customer, kind)
    context.update(notice=notice, error=error)
    response = render(
        request,
        "interactions/_tab.html",
        context,
        status=status or (400 if context["errors"] or error else 200),
    )
    if changed:
        response["HX-Trigger"] = ACTIVITY_CHANGED
    return response


def _page(request: WorkspacePageRequest, customer: Customer, kind: str) -> HttpResponse:
    context = _tab_context(request, customer, kind)
    context.update(_activity_context(request, customer))
    shown = _customer_form(request, customer)
    context.update(
        section="customers",
        card_rows=[
            (field.label, _shown(field)) for field in [*shown.default_fields, *shown.additional_fields]
        ],
        card_edit_url=_url("customer_card_edit", request, customer),
        full_edit_url=reverse(
            "customers:detail", kwargs={"workspace_slug": request.workspace.slug, "customer_id": customer.pk}
        ),
        activity_changed=ACTIVITY_CHANGED,
    )
    return render(
        request, "interactions/customer_detail.html", context, status=400 if context["errors"] else 200
    )


@workspace_page()
def customer_detail(request: WorkspacePageRequest, customer_id: int) -> HttpResponseBase:
    try:
        customer = _customer(request, customer_id)
    except Http404:
        # A merged customer's old link leads to the customer it was merged into.
        survivor = customer_selectors.customer_merged_into(
            workspace=request.workspace, customer_id=customer_id
        )
        if survivor is None:
            raise
        return redirect(
            "interactions:customer_detail", workspace_slug=request.workspace.slug, customer_id=survivor
        )
    return _page(request, customer, Kind.CONVERSATION)


@workspace_page()
def customer_tab(request: WorkspacePageRequest, customer_id: int, kind: str) -> HttpResponse:
    customer = _customer(request, customer_id)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "interactions":
        return _tab(request, customer, kind)
    return _page(request, customer, kind)


@workspace_page()
def customer_card(request: WorkspacePageRequest, customer_id: int) -> HttpResponse:
    return _card(request, _customer(request, customer_id))


@workspace_page()
def customer_card_edit(request: WorkspacePageRequest, customer_id: int) -> HttpResponse:
    """GET: the card's fields as a form. POST: saved with customer_update; the card again, or the form with each
    field's error in place."""
    workspace = request.workspace
    customer = _customer(request, customer_id)
    form = _customer_form(request, customer)
    if request.method != "POST":
        return _card(request, customer, form=form)
    if form.is_valid():
        try:
            customer_services.customer_update(
                workspace=workspace, actor=request.actor, customer_id=customer.pk, data=form.service_data()
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            response = _card(request, _customer(request, customer_id))
            response["HX-Trigger"] = ACTIVITY_CHANGED
            return response
    return _card(request, customer, form=form, status=400)


@workspace_page()
def customer_timeline(request: WorkspacePageRequest, customer_id: int) -> HttpResponse:
    """Without a cursor: the activity log and the timeline's first page (reloaded after a change); with one: the
    next (older) lines, which take the place of the "Load more" button."""
    customer = _customer(request, customer_id)
    cursor = request.GET.get("cursor") or None
    context = _activity_context(request, customer, cursor)
    template = "interactions/_timeline_lines.html" if cursor else "interactions/_activity.html"
    return render(request, template, context)


@workspace_page()
def customer_tab_picker(request: WorkspacePageRequest, customer_id: int, kind: str) -> HttpResponse:
    """This workspace's records of the kind whose title holds the search, not yet associated (htmx)."""
    customer = _customer(request, customer_id)
    query = request.GET.get("q", "")[:SEARCH_MAX].strip()
    found = selectors.record_picker_search(
        workspace=request.workspace, kind=kind, query=query, customer=customer
    )
    spec = KINDS[kind]
    return render(
        request,
        "interactions/_record_picker.html",
        {
            "found": [(record.pk, str(getattr(record, spec.title_field) or record)) for record in found],
            "query": query,
            "associate_url": _url("customer_tab_associate", request, customer, kind=kind),
        },
    )


def _record_id(raw: str) -> int:
    text = raw.strip()
    if not text.isdigit() or len(text) > ID_MAX_DIGITS:
        raise Http404
    return int(text)


@require_POST
@workspace_page()
def customer_tab_associate(request: WorkspacePageRequest, customer_id: int, kind: str) -> HttpResponse:
    customer = _customer(request, customer_id)
    record_id = _record_id(request.POST.get("record", "")[:40])
    try:
        added = services.association_add(
            workspace=request.workspace,
            actor=request.actor,
            kind=kind,
            record_id=record_id,
            customer_id=customer.pk,
        )
    except ValidationError as error:
        return _tab(request, customer, kind, error=" ".join(error.messages))
    notice = _("Associated.") if added else _("It was already associated.")
    return _tab(request, customer, kind, notice=notice, changed=added)


@workspace_page()
def customer_tab_new(request: WorkspacePageRequest, customer_id: int, kind: str) -> HttpResponse:
    """GET: a form for a new record of the kind. POST: created already associated with the customer."""
    workspace = request.workspace
    customer = _customer(request, customer_id)
    spec = KINDS[kind]
    form = record_form(request, spec, names_of(workspace=workspace, kind=kind))
    context = {
        "form": form,
        "new_url": _url("customer_tab_new", request, customer, kind=kind),
        "new_label": NEW_LABELS[kind],
    }
    if request.method != "POST":
        return render(request, "interactions/_tab_new.html", context)
    if form.is_valid():
        try:
            record = services.record_create(
                workspace=workspace,
                actor=request.actor,
                kind=kind,
                data=form.service_data(),
                customer_ids=[customer.pk],
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            title = str(getattr(record, spec.title_field) or record)
            response = _tab(
                request, customer, kind, notice=_("%(title)s was added.") % {"title": title}, changed=True
            )
            # The new form was inside the tab: the whole tab is redrawn in its place.
            response["HX-Retarget"] = "#interactions"
            response["HX-Reswap"] = "outerHTML"
            return response
    return render(request, "interactions/_tab_new.html", context, status=400)


@require_POST
@workspace_page()
def customer_tab_remove(
    request: WorkspacePageRequest, customer_id: int, kind: str, record_id: int
) -> HttpResponse:
    customer = _customer(request, customer_id)
    removed = services.association_remove(
        workspace=request.workspace,
        actor=request.actor,
        kind=kind,
        record_id=record_id,
        customer_id=customer.pk,
    )
    notice = _("No longer associated.") if removed else ""
    return _tab(request, customer, kind, notice=notice, changed=removed)
