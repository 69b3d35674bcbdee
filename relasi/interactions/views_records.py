"""Each kind's pages, from the table of kinds: the list with its filters, the "New" form, and the record's page
(its form, the customers it concerns; a conversation's messages and a box to write one)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relasi.core.pagination import InvalidCursor
from relasi.customers import filters as customer_filters
from relasi.customers.selectors import customer_page
from relasi.interactions import selectors, services
from relasi.interactions.filters import FilterError, TabFilters, tab_filters_parse
from relasi.interactions.forms import MessageForm, RecordForm, field_label
from relasi.interactions.kinds import KINDS, KindSpec
from relasi.interactions.models import Conversation, Direction, Kind, Record
from relasi.interactions.views_shared import (
    LIST_TITLES,
    NEW_LABELS,
    Names,
    cursor_of,
    filter_controls,
    filters_active,
    names_of,
    paging_of,
    record_row,
    row_headers,
)
from relasi.tenancy.access import workspace_page
from relasi.tenancy.requests import WorkspacePageRequest

PICKER_SIZE = 10
SEARCH_MAX = 100


def record_url(slug: str, kind: str, record_id: int) -> str:
    return reverse(
        "interactions:record_detail", kwargs={"workspace_slug": slug, "kind": kind, "record_id": record_id}
    )


def list_url(slug: str, kind: str) -> str:
    return reverse("interactions:record_list", kwargs={"workspace_slug": slug, "kind": kind})


def record_form(request: WorkspacePageRequest, spec: KindSpec, names: Names, **kwargs: Any) -> RecordForm:
    return RecordForm(
        request.POST if request.method == "POST" else None,
        spec=spec,
        workspace=request.workspace,
        members=names.member_choices,
        pipelines=names.pipelines,
        **kwargs,
    )


def records_context(
    request: WorkspacePageRequest, *, kind: str, base_url: str, customer: Any = None
) -> dict[str, Any]:
    """One page of a kind's records (a list, or a customer's tab) with its filter panel and paging; errors in the
    filters or the cursor are said, not raised."""
    workspace = request.workspace
    spec = KINDS[kind]
    names = names_of(workspace=workspace, kind=kind)
    context: dict[str, Any] = {
        "kind": kind,
        "spec": spec,
        "errors": {},
        "rows": [],
        "headers": row_headers(spec),
        "title_header": field_label(spec, spec.title_field),
    }
    try:
        filters = tab_filters_parse(request.GET, kind=kind)
    except FilterError as error:
        filters = TabFilters()
        context["errors"] = error.errors
    context.update(
        filters=filters,
        controls=filter_controls(kind, filters, names),
        filters_active=filters_active(filters),
        base_url=base_url,
    )
    if context["errors"]:
        return context
    try:
        page = selectors.records_page(
            workspace=workspace, kind=kind, filters=filters, customer=customer, cursor=cursor_of(request.GET)
        )
    except InvalidCursor:
        context["errors"] = {
            "cursor": _("This page link is no longer valid. Start again from the first page.")
        }
        return context
    context.update(
        rows=[
            record_row(spec, record, names, url=record_url(workspace.slug, kind, record.pk))
            for record in page.items
        ],
        paging=paging_of(base_url, filters, page),
    )
    return context


@workspace_page()
def record_list(request: WorkspacePageRequest, kind: str) -> HttpResponse:
    workspace = request.workspace
    context = records_context(request, kind=kind, base_url=list_url(workspace.slug, kind))
    status = 400 if context["errors"] else 200
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "record-table":
        return render(request, "interactions/_records.html", context, status=status)
    context.update(
        section=f"interactions_{kind}",
        title=LIST_TITLES[kind],
        new_label=NEW_LABELS[kind],
        new_url=reverse("interactions:record_new", kwargs={"workspace_slug": workspace.slug, "kind": kind}),
    )
    return render(request, "interactions/list.html", context, status=status)


@workspace_page()
def record_new(request: WorkspacePageRequest, kind: str) -> HttpResponse:
    workspace = request.workspace
    spec = KINDS[kind]
    form = record_form(request, spec, names_of(workspace=workspace, kind=kind))
    if request.method == "POST" and form.is_valid():
        try:
            record = services.record_create(
                workspace=workspace, actor=request.actor, kind=kind, data=form.service_data()
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("%(title)s was added.") % {"title": _title(spec, record)})
            return redirect(record_url(workspace.slug, kind, record.pk))
    return render(
        request,
        "interactions/record_form.html",
        {
            "section": f"interactions_{kind}",
            "kind": kind,
            "list_title": LIST_TITLES[kind],
            "list_url": list_url(workspace.slug, kind),
            "title": NEW_LABELS[kind],
            "form": form,
            "record": None,
        },
        status=400 if form.errors else 200,
    )


def _title(spec: KindSpec, record: Record) -> str:
    return str(getattr(record, spec.title_field) or record)


def _record_page(
    request: WorkspacePageRequest,
    kind: str,
    record: Record,
    *,
    form: RecordForm | None = None,
    message_form: MessageForm | None = None,
    picker_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    workspace = request.workspace
    spec = KINDS[kind]
    names = names_of(workspace=workspace, kind=kind)
    context: dict[str, Any] = {
        "section": f"interactions_{kind}",
        "kind": kind,
        "list_title": LIST_TITLES[kind],
        "list_url": list_url(workspace.slug, kind),
        "title": _title(spec, record),
        "record": record,
        "form": form or record_form(request, spec, names, record=record),
        "customers": selectors.record_customers(workspace=workspace, kind=kind, record_id=record.pk),
        "picker_errors": picker_errors or [],
    }
    if isinstance(record, Conversation):
        try:
            thread = selectors.conversation_messages_page(
                workspace=workspace, conversation=record, cursor=cursor_of(request.GET, "messages")
            )
        except InvalidCursor:
            thread = selectors.conversation_messages_page(workspace=workspace, conversation=record)
        context.update(
            thread=thread,
            thread_paging=paging_of(
                record_url(workspace.slug, kind, record.pk), TabFilters(), thread, cursor_name="messages"
            ),
            message_form=message_form or MessageForm(),
        )
    return render(request, "interactions/record_form.html", context, status=status)


@workspace_page()
def record_detail(request: WorkspacePageRequest, kind: str, record_id: int) -> HttpResponse:
    workspace = request.workspace
    record = selectors.record_get(workspace=workspace, kind=kind, record_id=record_id)
    if request.method != "POST":
        return _record_page(request, kind, record)
    spec = KINDS[kind]
    form = record_form(request, spec, names_of(workspace=workspace, kind=kind), record=record)
    if form.is_valid():
        try:
            services.record_update(
                workspace=workspace,
                actor=request.actor,
                kind=kind,
                record_id=record.pk,
                data=form.service_data(),
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(record_url(workspace.slug, kind, record.pk))
    return _record_page(request, kind, record, form=form, status=400)


@workspace_page()
def record_customer_picker(request: WorkspacePageRequest, kind: str, record_id: int) -> HttpResponse:
    """The customers whose name matches the search, for "Add a customer" on a record's page (htmx)."""
    workspace = request.workspace
    record = selectors.record_get(workspace=workspace, kind=kind, record_id=record_id)
    query = request.GET.get("q", "")[:SEARCH_MAX].strip()
    found: list[Any] = []
    if query:
        params = QueryDict(mutable=True)
        params["search"] = query
        try:
            filters = customer_filters.customer_filters_parse(params)
        except customer_filters.FilterError:
            filters = None
        if filters is not None:
            taken = set(selectors.record_customer_ids(workspace=workspace, kind=kind, record_id=record.pk))
            page = customer_page(workspace=workspace, filters=filters, cursor=None, limit=PICKER_SIZE)
            found = [customer for customer in page.items if customer.pk not in taken]
    return render(
        request,
        "interactions/_customer_picker.html",
        {"kind": kind, "record": record, "found": found, "query": query},
    )


@require_POST
@workspace_page()
def record_customer_add(request: WorkspacePageRequest, kind: str, record_id: int) -> HttpResponse:
    workspace = request.workspace
    record = selectors.record_get(workspace=workspace, kind=kind, record_id=record_id)
    try:
        services.association_add(
            workspace=workspace,
            actor=request.actor,
            kind=kind,
            record_id=record.pk,
            customer_id=request.POST.get("customer", "")[:20],
        )
    except ValidationError as error:
        return _record_page(request, kind, record, picker_errors=list(error.messages), status=400)
    messages.success(request, _("The customer was added."))
    return redirect(record_url(workspace.slug, kind, record.pk))


@require_POST
@workspace_page()
def record_customer_remove(
    request: WorkspacePageRequest, kind: str, record_id: int, customer_id: int
) -> HttpResponse:
    workspace = request.workspace
    record = selectors.record_get(workspace=workspace, kind=kind, record_id=record_id)
    if services.association_remove(
        workspace=workspace, actor=request.actor, kind=kind, record_id=record.pk, customer_id=customer_id
    ):
        messages.success(request, _("The customer was taken off."))
    return redirect(record_url(workspace.slug, kind, record.pk))


@require_POST
@workspace_page()
def conversation_message_add(request: WorkspacePageRequest, record_id: int) -> HttpResponse:
    workspace = request.workspace
    record = selectors.record_get(workspace=workspace, kind=Kind.CONVERSATION, record_id=record_id)
    form = MessageForm(request.POST)
    if not form.is_valid():
        return _record_page(request, Kind.CONVERSATION, record, message_form=form, status=400)
    try:
        services.message_add(
            workspace=workspace,
            actor=request.actor,
            conversation_id=record.pk,
            direction=Direction.OUTBOUND,
            text=form.cleaned_data["text"],
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _record_page(request, Kind.CONVERSATION, record, message_form=form, status=400)
    messages.success(request, _("The message was added."))
    return redirect(record_url(workspace.slug, Kind.CONVERSATION, record.pk) + "#messages")
