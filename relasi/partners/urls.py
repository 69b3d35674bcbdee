from django.urls import path

from relasi.partners import lead_views, registration_views, views

app_name = "partners"

urlpatterns = [
    path("login/", views.PartnerSignInView.as_view(), name="login"),
    path("register/", registration_views.register, name="register"),
    path("register/<int:step>/", registration_views.register, name="register_step"),
    path("register/review/", registration_views.register_review, name="register_review"),
    path("register/done/", registration_views.register_done, name="register_done"),
    path("", views.dashboard, name="dashboard"),
    path("programs/", views.programs, name="programs"),
    path("programs/<int:program_id>/", views.program_detail, name="program_detail"),
    path("commission/", views.commission, name="commission"),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.profile_password, name="profile_password"),
    path("profile/changes/", views.profile_change_request, name="profile_change_request"),
    path("leads/", lead_views.leads, name="leads"),
    path("leads/new/", lead_views.lead_new, name="lead_new"),
]
