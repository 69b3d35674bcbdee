"""Every page of the three front doors (workspace app, partner portal, back-office), found from the URL patterns.

The layout tests visit what this finds, so a page added later is checked without anyone remembering to list it.
Each named pattern outside the API is filled with the values given (a parameter without a value fails loudly),
fetched with Django's test client, first signed out and then, if that leads to a sign-in page, as the door's
user; what answers 200 with a whole HTML document is a page. POST-only endpoints (405), downloads and fragments
drop out by themselves. The back-office's pages come from the admin site's own list of apps and models.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from relasi.accounts.models import User

# Not pages of a front door: the API (ninja's resolver and the /api/ catch-all), the back-office (listed from the
# admin site below), the language switch (POST) and the probes for load balancers and browsers.
SKIPPED_NAMESPACES = {"admin", "api-v1"}
SKIPPED_NAMES = {"healthz", "readyz", "set_language"}
SIGN_IN_PATHS = ("/accounts/login/", "/partners/login/", "/backoffice/login/")
# The door's user, by the first segment of the path, when a page asks to sign in.
DOOR_USERS = {"partners": "partner@relasi.test", "app": "owner@relasi.test", "accounts": "owner@relasi.test"}
STAFF = "staff@relasi.test"
# Parameters of endpoints that only take a POST: any id will do, a GET of them is a 405 and drops out.
POST_ONLY_VALUES = {"duplicate_id": ["1"], "merge_id": ["1"], "gateway": ["sandbox"]}


@dataclass(frozen=True)
class Page:
    path: str
    user: str | None  # the email to sign in as; None: signed out
    has_menu: bool  # drawn in a door's frame (app_base.html, partners_base.html, the back-office's header)


def named_routes(
    patterns: list[URLPattern | URLResolver] | None = None, namespace: str = "", outer: tuple[str, ...] = ()
) -> Iterator[tuple[str, list[str]]]:
    """(namespaced name, every parameter reverse() needs) of each named pattern outside the skipped namespaces."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        parameters = (*outer, *entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            if entry.namespace in SKIPPED_NAMESPACES:
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_routes(entry.url_patterns, inner, parameters)
        elif entry.name and entry.name not in SKIPPED_NAMES:
            yield f"{namespace}{entry.name}", list(parameters)


def _is_document(response: object) -> bool:
    content_type = response.headers.get("Content-Type", "")  # type: ignore[attr-defined]
    return content_type.startswith("text/html") and b"<html" in response.content[:500].lower()  # type: ignore[attr-defined]


def _uses(response: object, *templates: str) -> bool:
    return any(template.name in templates for template in getattr(response, "templates", []) if template.name)


def _signed_in(email: str | None) -> Client:
    client = Client()
    if email is not None:
        client.force_login(User.objects.get(email=email))
    return client


def site_pages(values: dict[str, list[str]]) -> list[Page]:
    """The pages of the workspace app, the partner portal and the public pages, from the URL patterns.

    Each parameter has one or more values (an import waiting for its mapping, and one that ran); every
    combination is fetched.
    """
    pages: dict[str, Page] = {}
    values = {**POST_ONLY_VALUES, **interaction_values(values), **values}
    for name, parameters in named_routes():
        missing = [parameter for parameter in parameters if parameter not in values]
        assert not missing, f"{name} needs a value for {missing} in the layout test's page values"
        for combination in itertools.product(*(values[parameter] for parameter in parameters)):
            page = _page_at(reverse(name, kwargs=dict(zip(parameters, combination, strict=True))))
            if page is not None:
                pages.setdefault(page.path, page)
    return list(pages.values())


def interaction_values(values: dict[str, list[str]]) -> dict[str, list[str]]:
    """Each kind of record (`kind`), and one record of each (`record_id`) in the workspace of the page values,
    concerning its first customer, so that the record pages and the customer's tabs show something real. A record
    page asked with another kind's id is a 404 and drops out."""
    from relasi.interactions.kinds import KINDS
    from relasi.interactions.services import message_add, record_create
    from relasi.tenancy.models import Workspace

    if "workspace_slug" not in values or "customer_id" not in values:
        return {}
    workspace = Workspace.objects.get(slug=values["workspace_slug"][0])
    owner = User.objects.get(email=DOOR_USERS["app"])
    customer_ids = values["customer_id"][:1]
    data = {
        "conversation": {
            "channel": "whatsapp",
            "subject": "Pertanyaan tentang pesanan dan pengiriman ke luar pulau",
        },
        "campaign": {"name": "Promo Harbolnas 12.12", "template_name": "promo_harbolnas_desember_2026"},
        "company": {
            "name": "PT Perusahaan Keluarga Nusantara Sejahtera",
            "domain": "perusahaan-keluarga-nusantara.co.id",
        },
        "ticket": {"title": "Pengembalian dana untuk pesanan yang belum dikirim"},
        "deal": {"name": "Pesanan besar akhir tahun", "amount": "150000000"},
        "task": {"title": "Telepon balik pelanggan tentang pengiriman"},
    }
    ids = []
    for kind in KINDS:
        record = record_create(
            workspace=workspace, actor=owner, kind=kind, data=data[kind], customer_ids=customer_ids
        )
        ids.append(str(record.pk))
        if kind == "conversation":
            message_add(
                workspace=workspace,
                actor=None,
                conversation_id=record.pk,
                direction="inbound",
                text="Halo kak, apakah pesanan saya bisa dikirim ke Kabupaten Kepulauan Selayar minggu ini?",
            )
    return {"kind": list(KINDS), "record_id": ids}


def _page_at(path: str) -> Page | None:
    """The page a GET of path ends on, with the user it needs; None when it is no page (405, a file, a fragment)."""
    user: str | None = None
    response = _signed_in(None).get(path, follow=True)
    if response.redirect_chain and response.request["PATH_INFO"] in SIGN_IN_PATHS:
        user = DOOR_USERS.get(path.strip("/").split("/")[0])
        if user is None:
            return None
        response = _signed_in(user).get(path, follow=True)
    assert response.status_code < 500, f"{path} answers {response.status_code}"
    if response.status_code != 200 or not _is_document(response):
        return None
    query = response.request.get("QUERY_STRING", "")
    final = response.request["PATH_INFO"] + (f"?{query}" if query else "")
    return Page(final, user, _uses(response, "app_base.html", "partners_base.html"))


def backoffice_pages() -> list[Page]:
    """The back-office's sign-in, index, each app's index, and each model's list and add form (when allowed)."""
    request = RequestFactory().get("/backoffice/")
    request.user = User.objects.get(email=STAFF)
    paths = [reverse("admin:index")]
    # The site the back-office's URLs lead to (Relasi's own, not django.contrib.admin's default one).
    site = resolve(reverse("admin:index")).func.admin_site  # type: ignore[attr-defined]
    for app in site.get_app_list(request):
        paths.append(app["app_url"])
        for model in app["models"]:
            paths.extend(url for url in (model.get("admin_url"), model.get("add_url")) if url)
    signed_in = [Page(path, STAFF, True) for path in dict.fromkeys(paths)]
    return [Page(reverse("admin:login"), None, False), *signed_in]
