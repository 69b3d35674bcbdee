"""All customers pages: the list with filters and columns, add/edit one, delete/restore, export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from relasi.core.formatting import format_phone
from relasi.core.ids import ids_parse
from relasi.core.inputs import number_style_for_language
from relasi.core.pagination import InvalidCursor
from relasi.customers import exports, selectors, services
from relasi.customers import filters as customer_filters
from relasi.customers.display import customer_cell_text
from relasi.customers.forms import CustomerForm
from relasi.customers.list_paging import list_paging
from relasi.customers.models import Channel, Customer, ExportStatus
from relasi.tenancy.access import workspace_page
from relasi.tenancy.models import Workspace
from relasi.tenancy.permissions import Permission
from relasi.tenancy.requests import WorkspacePageRequest


def _list_url(workspace: Workspace) -> str:
    return reverse("customers:list", kwargs={"workspace_slug": workspace.slug})


@dataclass(frozen=True)
class TableRow:
    pk: int
    full_name: str
    detail_url: str
    # Text of the other columns, ready to print; None shows a dash.
    cells: list[str | None]

    @property
    def cells_html(self) -> SafeString:
        """The other columns' <td> cells, escaped here: a loop of template tags over 50 rows of cells costs more than
        the query behind the page (measured at a million customers)."""
        return SafeString("".join(_cell_html(value) for value in self.cells))


EMPTY_CELL = SafeString('<td><span class="text-secondary">—</span></td>')


def _cell_html(value: str | None) -> str:
    if value is None:
        return EMPTY_CELL
    if value == "":
        return "<td></td>"
    shown = escape(value)
    return f'<td><span class="cell" title="{shown}">{shown}</span></td>'


def _table_context(request: WorkspacePageRequest, workspace: Workspace) -> dict[str, Any]:
    context: dict[str, Any] = {
        "filter_errors": {},
        "customers": [],
        "delete_url": reverse("customers:delete", kwargs={"workspace_slug": workspace.slug}),
        "restore_url": reverse("customers:restore", kwargs={"workspace_slug": workspace.slug}),
    }
    try:
        filters = customer_filters.customer_filters_parse(request.GET)
    except customer_filters.FilterError as error:
        context.update(filters=customer_filters.CustomerFilters(), filter_errors=error.errors)
        return context
    try:
        per_page = customer_filters.page_size_parse(request.GET.get("per_page"))
    except customer_filters.FilterValueError as error:
        context.update(filters=filters, filter_errors={"per_page": str(error)})
        return context
    context["filters"] = filters
    columns = selectors.customer_columns_for_user(workspace=workspace, user=request.member)
    if filters.deleted:
        columns = [*columns, selectors.Column("deleted_at", _("Deleted"))]
    try:
        page = selectors.customer_page(
            workspace=workspace, filters=filters, cursor=request.GET.get("cursor") or None, limit=per_page
        )
    except InvalidCursor:
        context["filter_errors"] = {
            "cursor": _("This page link is no longer valid. Start again from the first page.")
        }
        return context
    detail_url = reverse("customers:detail", kwargs={"workspace_slug": workspace.slug, "customer_id": 0})
    detail_prefix = detail_url.removesuffix("0/")
    rows = [
        TableRow(
            pk=customer.pk,
            full_name=customer.full_name,
            detail_url=f"{detail_prefix}{customer.pk}/",
            cells=[customer_cell_text(customer, column) for column in columns[1:]],
        )
        for customer in page.items
    ]
    count = selectors.customer_count(workspace=workspace, filters=filters, first_page=page)
    paging = list_paging(
        list_url=_list_url(workspace), filters=filters, page=page, count=count, per_page=per_page
    )
    context.update(
        columns=columns,
        rows=rows,
        count=count,
        paging=paging,
        # Each column with how its header sorts the list (None: it does not).
        headers=[(column, paging.sort_headers.get(column.key)) for column in columns],
        retention_days=settings.CUSTOMER_DELETED_RETENTION_DAYS,
    )
    return context


@workspace_page()
def customer_list(request: WorkspacePageRequest) -> HttpResponse:
    workspace = request.workspace
    context = _table_context(request, workspace)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "customer-table":
        return render(request, "customers/_table.html", context)
    context.update(
        section="customers",
        channels=Channel.choices,
        date_modes=[
            ("all", _("All time")),
            ("today", _("Today")),
            ("last7", _("Last 7 days")),
            ("day", _("Per day")),
            ("month", _("Per month")),
            ("custom", _("Custom range")),
        ],
        available_columns=selectors.customer_available_columns(workspace=workspace),
        chosen_columns=[
            column.key
            for column in selectors.customer_columns_for_user(workspace=workspace, user=request.member)
        ],
    )
    return render(request, "customers/list.html", context, status=400 if context["filter_errors"] else 200)


def _back_to_list(request: WorkspacePageRequest, workspace: Workspace) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(_list_url(workspace))


@require_POST
@workspace_page()
def customer_view_update(request: WorkspacePageRequest) -> HttpResponse:
    workspace = request.workspace
    services.customer_view_save(
        workspace=workspace, user=request.member, columns=request.POST.getlist("columns")
    )
    messages.success(request, _("Your view was saved."))
    return _back_to_list(request, workspace)


def _ids(request: WorkspacePageRequest) -> list[int]:
    return ids_parse(request.POST.getlist("ids"))


@require_POST
@workspace_page()
def customer_delete(request: WorkspacePageRequest) -> HttpResponse:
    workspace = request.workspace
    ids = _ids(request)
    try:
        count = services.customers_delete(workspace=workspace, actor=request.actor, customer_ids=ids)
    except PermissionDenied as refusal:
        messages.error(request, str(refusal))
        return _back_to_list(request, workspace)
    if count:
        messages.success(
            request,
            ngettext(
                "%(count)d customer was deleted. You can restore it from Deleted for %(days)d days.",
                "%(count)d customers were deleted. You can restore them from Deleted for %(days)d days.",
                count,
            )
            % {"count": count, "days": settings.CUSTOMER_DELETED_RETENTION_DAYS},
        )
    elif ids:
        messages.error(request, _("The selected customers were already deleted."))
    else:
        messages.error(request, _("Select at least one customer."))
    return _back_to_list(request, workspace)


@require_POST
@workspace_page()
def customer_restore(request: WorkspacePageRequest) -> HttpResponse:
    workspace = request.workspace
    ids = _ids(request)
    count = services.customers_restore(workspace=workspace, actor=request.actor, customer_ids=ids)
    if count:
        messages.success(
            request,
            ngettext("%(count)d customer was restored.", "%(count)d customers were restored.", count)
            % {"count": count},
        )
    elif ids:
        messages.error(
            request,
            _(
                "The selected customers cannot be restored: they are not deleted, or were deleted more than "
                "%(days)d days ago."
            )
            % {"days": settings.CUSTOMER_DELETED_RETENTION_DAYS},
        )
    else:
        messages.error(request, _("Select at least one customer."))
    return _back_to_list(request, workspace)


@dataclass(frozen=True)
class DuplicateRow:
    """A customer the duplicate warning names, with its phone as every page shows phones."""

    pk: int
    full_name: str
    phone: str
    email: str


def _unconfirmed_duplicates(
    request: WorkspacePageRequest, form: CustomerForm, customer: Customer | None
) -> list[DuplicateRow]:
    """Customers with the same phone or email, except those the user already saw and chose to keep."""
    found = selectors.customer_duplicates(
        workspace=request.workspace,
        phone=form.cleaned_data.get("phone"),
        email=form.cleaned_data.get("email"),
        customer=customer,
        exclude_ids=request.POST.get("confirm_duplicate", "").split(","),
    )
    return [
        DuplicateRow(
            pk=other.pk, full_name=other.full_name, phone=format_phone(other.phone), email=other.email
        )
        for other in found
    ]


def _customer_form(request: WorkspacePageRequest, **kwargs: Any) -> CustomerForm:
    """The customer form, reading numbers the way the viewer's language writes them (1.500.000 or 1,500,000)."""
    return CustomerForm(
        request.POST or None,
        workspace=request.workspace,
        number_style=number_style_for_language(translation.get_language()),
        **kwargs,
    )


@workspace_page()
def customer_new(request: WorkspacePageRequest) -> HttpResponse:
    workspace = request.workspace
    form = _customer_form(request, initial={"owner": str(request.user.pk)})
    duplicates: list[DuplicateRow] = []
    if request.method == "POST" and form.is_valid():
        duplicates = _unconfirmed_duplicates(request, form, None)
        if not duplicates:
            try:
                customer = services.customer_create(
                    workspace=workspace, actor=request.actor, data=form.service_data()
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("%(name)s was added.") % {"name": customer.full_name})
                return redirect(_list_url(workspace))
    status = 400 if form.errors else 200
    return render(
        request,
        "customers/form.html",
        {"section": "customers", "form": form, "duplicates": duplicates, "customer": None},
        status=status,
    )


@workspace_page()
def customer_detail(request: WorkspacePageRequest, customer_id: int) -> HttpResponseBase:
    workspace = request.workspace
    try:
        customer = selectors.customer_get(workspace=workspace, customer_id=customer_id)
    except Http404:
        # A merged customer's old link leads to the customer it was merged into.
        survivor = selectors.customer_merged_into(workspace=workspace, customer_id=customer_id)
        if survivor is None:
            raise
        return redirect("customers:detail", workspace_slug=workspace.slug, customer_id=survivor)
    form = _customer_form(request, customer=customer)
    duplicates: list[DuplicateRow] = []
    if request.method == "POST" and form.is_valid():
        duplicates = _unconfirmed_duplicates(request, form, customer)
        if not duplicates:
            try:
                services.customer_update(
                    workspace=workspace,
                    actor=request.actor,
                    customer_id=customer.pk,
                    data=form.service_data(),
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("customers:detail", workspace_slug=workspace.slug, customer_id=customer.pk)
    return render(
        request,
        "customers/form.html",
        {
            "section": "customers",
            "form": form,
            "duplicates": duplicates,
            "customer": customer,
            "identities": customer.identities.all(),
            "undoable_merges": selectors.customer_merges_undoable(workspace=workspace, survivor=customer),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@workspace_page(permission=Permission.EXPORT_CUSTOMERS)
def customer_export(request: WorkspacePageRequest) -> HttpResponseBase:
    workspace = request.workspace
    try:
        filters = customer_filters.customer_filters_parse(request.POST)
    except customer_filters.FilterError as error:
        messages.error(request, " ".join(error.errors.values()))
        return redirect(_list_url(workspace))
    actor = request.actor
    if exports.customer_export_needs_job(workspace=workspace, filters=filters):
        export = exports.customer_export_create(workspace=workspace, actor=actor, filters=filters)
        return redirect("customers:export_status", workspace_slug=workspace.slug, export_id=export.pk)
    response = StreamingHttpResponse(
        exports.customer_export_stream(workspace=workspace, actor=actor, filters=filters),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime(timezone.now(), workspace.zone).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="customers-{workspace.slug}-{stamp}.csv"'
    return response


@workspace_page()
def customer_export_status(request: WorkspacePageRequest, export_id: int) -> HttpResponse:
    workspace = request.workspace
    export = exports.customer_export_get(workspace=workspace, actor=request.actor, export_id=export_id)
    template = (
        "customers/_export_status.html"
        if request.headers.get("HX-Request")
        else "customers/export_status.html"
    )
    return render(
        request,
        template,
        {
            "section": "customers",
            "export": export,
            "done": export.status in (ExportStatus.COMPLETED, ExportStatus.FAILED),
        },
    )


@workspace_page()
def customer_export_download(request: WorkspacePageRequest, export_id: int) -> HttpResponseBase:
    workspace = request.workspace
    export = exports.customer_export_get(workspace=workspace, actor=request.actor, export_id=export_id)
    return FileResponse(
        exports.customer_export_file_open(export=export),
        as_attachment=True,
        filename=f"customers-{workspace.slug}-{export.pk}.csv",
        content_type="text/csv",
    )
