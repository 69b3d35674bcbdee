from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from relasi.core.admin import backoffice
from relasi.partners.models import Partner


@admin.register(Partner, site=backoffice)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["code", "person", "kind", "company_name", "created_at"]
    list_filter = ["kind"]
    search_fields = ["code", "user__email", "user__full_name", "company_name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]

    # Partner.user has no translated name of its own (see the issue 9 report): the column gets one here.
    @admin.display(description=_("user"), ordering="user__email")
    def person(self, partner: Partner) -> str:
        return str(partner.user)
