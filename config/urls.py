from django.urls import include, path, re_path

from relasi.api.router import api, api_not_found
from relasi.billing import sandbox_views
from relasi.billing.webhooks import payment_webhook
from relasi.core.admin import backoffice
from relasi.interactions.webhooks import whatsapp_webhook
from relasi.partners import lead_views as partner_lead_views
from relasi.web import views as web_views

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("readyz", web_views.readyz, name="readyz"),
    path("favicon.ico", web_views.favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("relasi.accounts.urls")),
    path("partners/", include("relasi.partners.urls")),
    # A partner's referral link: counts the visit, sets the attribution cookie, shows the lead form.
    path("r/<str:code>", partner_lead_views.referral_link, name="referral_link"),
    path("backoffice/", backoffice.urls),
    path("api/v1/", api.urls),
    # Anything else under /api/ (an unknown path, a trailing slash) is a JSON problem, never an HTML page.
    re_path(r"^api/", api_not_found),
    # Meta's WhatsApp Cloud API webhook: no session, no CSRF; the signature says who sent it.
    path("hooks/whatsapp/<str:token>", whatsapp_webhook, name="whatsapp_webhook"),
    # Payment gateways' callbacks: verified by each gateway's signature or token (relasi/billing/gateways).
    path("hooks/payments/<slug:gateway>", payment_webhook, name="payment_webhook"),
    # The sandbox gateway's hosted-style payment page (PAYMENT_GATEWAY=sandbox only).
    path("pay/sandbox/<str:token>/", sandbox_views.sandbox_checkout, name="sandbox_checkout"),
    path("app/<slug:workspace_slug>/customers/", include("relasi.customers.urls")),
    path("app/<slug:workspace_slug>/", include("relasi.interactions.urls")),
    path("app/<slug:workspace_slug>/", include("relasi.billing.urls")),
    path("", include("relasi.web.urls")),
]

# Refusals say why (the permission module's words) and stay in the app's layout on workspace pages.
handler403 = "relasi.web.views.permission_denied"
