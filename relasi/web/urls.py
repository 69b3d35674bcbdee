from django.urls import include, path

from relasi.web import views

app_name = "web"

workspace_patterns = [
    path("", views.workspace_home, name="workspace_home"),
    path("settings/members/", views.settings_members, name="settings_members"),
    path(
        "settings/members/<int:membership_id>/", views.settings_member_update, name="settings_member_update"
    ),
    path(
        "settings/members/<int:membership_id>/invitation/resend/",
        views.settings_member_invitation_resend,
        name="settings_member_invitation_resend",
    ),
    path(
        "settings/members/<int:membership_id>/invitation/cancel/",
        views.settings_member_invitation_cancel,
        name="settings_member_invitation_cancel",
    ),
    path(
        "settings/members/agent-permissions/",
        views.settings_agent_permissions,
        name="settings_agent_permissions",
    ),
    path("settings/channels/", views.settings_channels, name="settings_channels"),
    path("settings/channels/remove/", views.settings_channel_remove, name="settings_channel_remove"),
    path("settings/api-keys/", views.settings_api_keys, name="settings_api_keys"),
    path(
        "settings/api-keys/<int:api_key_id>/revoke/",
        views.settings_api_key_revoke,
        name="settings_api_key_revoke",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("app/", views.workspaces, name="workspaces"),
    path("app/<slug:workspace_slug>/", include(workspace_patterns)),
]
