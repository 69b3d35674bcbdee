from django.contrib import admin

from relasi.core.admin import backoffice
from relasi.partners.models import Partner


@admin.register(Partner, site=backoffice)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["code", "user", "kind", "company_name", "created_at"]
    list_filter = ["kind"]
    search_fields = ["code", "user__email", "user__full_name", "company_name"]
    autocomplete_fields = ["user"]
