from django.urls import path

from relasi.billing import topup_views, views

app_name = "billing"

urlpatterns = [
    path("usage/", views.package_usage, name="package_usage"),
    path("usage/top-up/", topup_views.top_up, name="top_up"),
    path("usage/top-up/orders/<int:order_id>/", topup_views.top_up_order, name="top_up_order"),
    path("settings/subscription/", views.subscription, name="subscription"),
    path("settings/subscription/invoices/<int:invoice_id>/", topup_views.invoice, name="invoice"),
    path(
        "settings/subscription/invoices/<int:invoice_id>/pdf/",
        topup_views.invoice_download,
        name="invoice_pdf",
    ),
]
