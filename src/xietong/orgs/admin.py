from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from xietong.orgs.models import Appointment, Region, Unit, User


class AppointmentInline(admin.TabularInline):
    model = Appointment
    extra = 1


@admin.register(User)
class XietongUserAdmin(UserAdmin):
    list_display = ("username", "full_name", "unit", "title", "is_active")
    list_filter = ("unit__agency", "is_active")
    search_fields = ("username", "full_name", "unit__name")
    inlines = [AppointmentInline]
    fieldsets = (*UserAdmin.fieldsets, ("单位", {"fields": ("full_name", "unit", "title")}))  # type: ignore[misc]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "agency", "level", "region", "parent")
    list_filter = ("agency", "kind", "level")
    search_fields = ("name", "code")
    readonly_fields = ("path", "agency")


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "level", "parent")
    list_filter = ("level",)
    search_fields = ("name", "code")
