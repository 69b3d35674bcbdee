"""/partners/register/: the registration wizard — four steps with Back and Next, a review, Submit. The values
travel in the session between steps (the document in private storage), so going back shows them again; the
rules are relasi.partners.registration's."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from relasi.partners.forms import REGISTRATION_FORMS
from relasi.partners.identity import DOCUMENT_MAX_BYTES, banks, document_check
from relasi.partners.models import EmployeeSize, IdentityType, Product
from relasi.partners.registration import STEPS, Document, identity_name_check, partner_register

SESSION_KEY = "partner_registration"
PENDING_FOLDER = "private/partner-registration"


def _saved(request: HttpRequest) -> dict[str, Any]:
    value = request.session.get(SESSION_KEY)
    return value if isinstance(value, dict) else {}


def _save(request: HttpRequest, values: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = {**_saved(request), **values}


def _step_url(step: int) -> str:
    return reverse("partners:register") if step == 1 else reverse("partners:register_step", args=[step])


def _first_missing(saved: dict[str, Any], step: int) -> int | None:
    """The first earlier step not done yet: a step's page opens only after the ones before it."""
    for earlier in STEPS:
        if earlier >= step:
            return None
        if f"step{earlier}" not in saved:
            return earlier
    return None


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, step: int = 1) -> HttpResponseBase:
    if step not in STEPS:
        return redirect(_step_url(1))
    saved = _saved(request)
    missing = _first_missing(saved, step)
    if missing is not None:
        return redirect(_step_url(missing))
    form_class = REGISTRATION_FORMS[step]
    if request.method == "POST":
        form = form_class(request.POST, request.FILES)
        if form.is_valid() and _document_kept(request, form):
            values = {
                name: form.cleaned_data.get(name) for name in form.fields if name != "identity_document"
            }
            _save(request, {**values, f"step{step}": True})
            return redirect(_step_url(step + 1) if step < STEPS[-1] else reverse("partners:register_review"))
    else:
        form = form_class(initial={name: saved.get(name) for name in form_class.base_fields})
    return render(
        request,
        "partners/register.html",
        {
            "form": form,
            "step": step,
            "steps": STEPS,
            "back": _step_url(step - 1) if step > 1 else None,
            "document_name": _saved(request).get("document_name", ""),
            "door": "partners",
        },
        status=400 if request.method == "POST" else 200,
    )


def _document_kept(request: HttpRequest, form: Any) -> bool:
    """Step 3: the uploaded document, checked by its content, kept privately until Submit; a step 3 sent again
    without a file keeps the one sent before."""
    if "identity_document" not in form.fields:
        return True
    upload = request.FILES.get("identity_document")
    if upload is None:
        if _saved(request).get("document_path"):
            return _name_matches(request, form)
        form.add_error("identity_document", ValidationError(_("Attach the identity document.")))
        return False
    content = upload.read(DOCUMENT_MAX_BYTES + 1)
    try:
        kind = document_check(name=upload.name or "", head=content[:16], size=upload.size or len(content))
    except ValidationError as error:
        form.add_error("identity_document", error)
        return False
    replaced = _saved(request).get("document_path")
    if replaced:
        default_storage.delete(replaced)
    path = default_storage.save(f"{PENDING_FOLDER}/{uuid.uuid4().hex}", ContentFile(content))
    _save(request, {"document_path": path, "document_name": (upload.name or "")[:200], "document_kind": kind})
    return _name_matches(request, form)


def _name_matches(request: HttpRequest, form: Any) -> bool:
    values = {**_saved(request), **form.cleaned_data}
    try:
        identity_name_check(values)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            form.add_error(field, messages)
        return False
    return True


@require_http_methods(["GET", "POST"])
def register_review(request: HttpRequest) -> HttpResponseBase:
    saved = _saved(request)
    missing = _first_missing(saved, STEPS[-1] + 1)
    if missing is not None:
        return redirect(_step_url(missing))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            with default_storage.open(saved["document_path"]) as stored:
                content = stored.read(DOCUMENT_MAX_BYTES + 1)
            partner = partner_register(
                data=saved, document=Document(name=saved.get("document_name", ""), content=content)
            )
        except ValidationError as error:
            errors = error.message_dict
        else:
            default_storage.delete(saved["document_path"])
            request.session.pop(SESSION_KEY, None)
            request.session["partner_registered"] = partner.user.email
            return redirect("partners:register_done")
    return render(
        request,
        "partners/register_review.html",
        {
            "values": saved,
            "errors": errors,
            "products": dict(Product.choices),
            "sizes": dict(EmployeeSize.choices),
            "identity_types": dict(IdentityType.choices),
            "banks": dict(banks()),
            "door": "partners",
        },
        status=400 if errors else 200,
    )


def register_done(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "partners/register_done.html",
        {"email": request.session.get("partner_registered"), "door": "partners"},
    )
