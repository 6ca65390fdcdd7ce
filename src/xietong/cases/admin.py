from django.contrib import admin

from xietong.cases.models import HolidayOverride


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    """The official rest/working days for a year the ``chinese-calendar`` package does not cover yet
    (国务院办公厅关于部分节假日安排的通知): enter every 放假 day and every 调休上班 weekend day."""

    list_display = ("day", "is_rest_day", "note")
    list_filter = ("is_rest_day",)
    date_hierarchy = "day"
