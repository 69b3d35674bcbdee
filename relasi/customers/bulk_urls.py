"""Bulk action pages, under /app/<workspace_slug>/customers/bulk/: included by relasi/customers/urls.py without a
namespace of their own, so their names are `customers:bulk_prepare`, `customers:bulk_job`, `customers:bulk_undo`,
`customers:bulk_resume`."""

from django.urls import path

from relasi.customers import bulk_views

urlpatterns = [
    path("", bulk_views.bulk_prepare, name="bulk_prepare"),
    path("<int:job_id>/", bulk_views.bulk_job_page, name="bulk_job"),
    path("<int:job_id>/undo/", bulk_views.bulk_job_undo, name="bulk_undo"),
    path("<int:job_id>/resume/", bulk_views.bulk_job_resume, name="bulk_resume"),
]
