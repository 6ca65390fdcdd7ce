from django.contrib import admin

from xietong.security.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The security audit log, for the auditor: read, filter, search; never written by hand."""

    list_display = ["at", "kind", "user", "unit_name", "what", "case_id", "address"]
    list_filter = ["kind", "at"]
    search_fields = ["what", "unit_name", "user__username", "user__full_name"]
    date_hierarchy = "at"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
