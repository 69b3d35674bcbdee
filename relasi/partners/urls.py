from django.urls import path

from relasi.partners import views

app_name = "partners"

urlpatterns = [
    path("login/", views.PartnerSignInView.as_view(), name="login"),
    path("", views.dashboard, name="dashboard"),
    path("programs/", views.programs, name="programs"),
    path("commission/", views.commission, name="commission"),
    path("profile/", views.profile, name="profile"),
]
