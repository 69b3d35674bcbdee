"""All customers pages, under /app/<workspace_slug>/customers/. Imports and properties have their own modules."""

from django.urls import include, path

from relasi.customers import identity_views, import_views, merge_views, property_views, views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_new, name="new"),
    path("export/", views.customer_export, name="export"),
    path("exports/<int:export_id>/", views.customer_export_status, name="export_status"),
    path("exports/<int:export_id>/download/", views.customer_export_download, name="export_download"),
    path("view/", views.customer_view_update, name="view_update"),
    path("delete/", views.customer_delete, name="delete"),
    path("restore/", views.customer_restore, name="restore"),
    # Bulk actions (relasi.customers.bulk_urls): customers:bulk_prepare, customers:bulk_job, customers:bulk_undo.
    path("bulk/", include("relasi.customers.bulk_urls")),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("duplicates/", identity_views.duplicate_list, name="duplicates"),
    path("merge/", merge_views.customer_merge, name="merge"),
    path("merges/<int:merge_id>/undo/", merge_views.customer_merge_undo, name="merge_undo"),
    path(
        "duplicates/<int:duplicate_id>/dismiss/", identity_views.duplicate_dismiss, name="duplicate_dismiss"
    ),
    path("imports/", import_views.import_upload, name="import_upload"),
    path("imports/<int:import_id>/", import_views.import_mapping, name="import_mapping"),
    path("imports/<int:import_id>/progress/", import_views.import_progress, name="import_progress"),
    path("imports/<int:import_id>/resume/", import_views.import_resume, name="import_resume"),
    path("imports/<int:import_id>/undo/", import_views.import_undo, name="import_undo"),
    path("imports/<int:import_id>/errors.csv", import_views.import_error_file, name="import_error_file"),
    path("imports/<int:import_id>/duplicates/", import_views.import_duplicates, name="import_duplicates"),
    path("properties/", property_views.property_list, name="properties"),
    path("properties/new/", property_views.property_new, name="property_new"),
    path("properties/<int:property_id>/", property_views.property_edit, name="property_edit"),
    path("properties/<int:property_id>/archive/", property_views.property_archive, name="property_archive"),
    path("properties/reorder/", property_views.property_reorder, name="property_reorder"),
]
