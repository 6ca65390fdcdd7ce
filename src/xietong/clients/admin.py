from django.contrib import admin

from xietong.clients.models import ClientAudit, SystemClient


@admin.register(SystemClient)
class SystemClientAdmin(admin.ModelAdmin):
    """Read-only: secrets are made and revoked by ``xietong clients`` so each change is audited."""

    list_display = ["client_id", "name", "unit", "status", "require_signature", "created_at"]
    readonly_fields = ["client_id", "name", "unit", "user", "status", "require_signature", "created_by"]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(ClientAudit)
class ClientAuditAdmin(admin.ModelAdmin):
    list_display = ["client", "action", "actor", "at"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
