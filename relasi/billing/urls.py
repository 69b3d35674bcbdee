from django.urls import path

from relasi.billing import views

app_name = "billing"

urlpatterns = [
    path("usage/", views.package_usage, name="package_usage"),
    path("settings/subscription/", views.subscription, name="subscription"),
]
