from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from xietong.cases.clocks import holiday_calendar_changed
from xietong.cases.models import HolidayOverride


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    """The official rest/working days for a year the ``chinese-calendar`` package does not cover yet
    (国务院办公厅关于部分节假日安排的通知): enter every 放假 day and every 调休上班 weekend day."""

    list_display = ("day", "is_rest_day", "note")
    list_filter = ("is_rest_day",)
    date_hierarchy = "day"

    def save_model(self, request: HttpRequest, obj: HolidayOverride, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        holiday_calendar_changed()

    def delete_model(self, request: HttpRequest, obj: HolidayOverride) -> None:
        super().delete_model(request, obj)
        holiday_calendar_changed()
