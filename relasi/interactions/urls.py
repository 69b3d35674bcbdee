"""Interaction pages, under /app/<workspace_slug>/: each kind's list and record pages (/tickets/, /tickets/7/…) and
the customer's detail page with its tabs (/customers/<id>/details/…). `kind` is written in the path as its plural
("tickets") and reaches the views as the kind ("ticket")."""

from __future__ import annotations

from django.urls import path, register_converter

from relasi.interactions import views_customer, views_records
from relasi.interactions.views_shared import KIND_OF_PLURAL, PLURALS


class KindConverter:
    regex = "|".join(PLURALS.values())

    def to_python(self, value: str) -> str:
        return KIND_OF_PLURAL[value]

    def to_url(self, value: str) -> str:
        return PLURALS[value]


register_converter(KindConverter, "kind")

app_name = "interactions"

CUSTOMER = "customers/<int:customer_id>/details/"

urlpatterns = [
    path(CUSTOMER, views_customer.customer_detail, name="customer_detail"),
    path(f"{CUSTOMER}card/", views_customer.customer_card, name="customer_card"),
    path(f"{CUSTOMER}card/edit/", views_customer.customer_card_edit, name="customer_card_edit"),
    path(f"{CUSTOMER}timeline/", views_customer.customer_timeline, name="customer_timeline"),
    path(f"{CUSTOMER}<kind:kind>/", views_customer.customer_tab, name="customer_tab"),
    path(f"{CUSTOMER}<kind:kind>/picker/", views_customer.customer_tab_picker, name="customer_tab_picker"),
    path(
        f"{CUSTOMER}<kind:kind>/associate/",
        views_customer.customer_tab_associate,
        name="customer_tab_associate",
    ),
    path(f"{CUSTOMER}<kind:kind>/new/", views_customer.customer_tab_new, name="customer_tab_new"),
    path(
        f"{CUSTOMER}<kind:kind>/<int:record_id>/remove/",
        views_customer.customer_tab_remove,
        name="customer_tab_remove",
    ),
    path("<kind:kind>/", views_records.record_list, name="record_list"),
    path("<kind:kind>/new/", views_records.record_new, name="record_new"),
    path("<kind:kind>/<int:record_id>/", views_records.record_detail, name="record_detail"),
    path(
        "<kind:kind>/<int:record_id>/customers/picker/",
        views_records.record_customer_picker,
        name="record_customer_picker",
    ),
    path(
        "<kind:kind>/<int:record_id>/customers/add/",
        views_records.record_customer_add,
        name="record_customer_add",
    ),
    path(
        "<kind:kind>/<int:record_id>/customers/<int:customer_id>/remove/",
        views_records.record_customer_remove,
        name="record_customer_remove",
    ),
    path(
        "conversations/<int:record_id>/messages/",
        views_records.conversation_message_add,
        name="conversation_message_add",
    ),
]
