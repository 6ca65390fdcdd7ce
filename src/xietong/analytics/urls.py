from django.urls import path

from xietong.analytics import views

app_name = "analytics"

urlpatterns = [
    path("analytics/", views.dashboard, name="dashboard"),
    path("analytics/cases/", views.case_list, name="cases"),
    path("analytics/reports/", views.reports, name="reports"),
    path("analytics/query/", views.query, name="query"),
    path("analytics/correlation/", views.correlation, name="correlation"),
    path("analytics/warnings/", views.warning_list, name="warnings"),
    path("analytics/warnings/<int:warning_id>/ack", views.warning_ack, name="warning-ack"),
    path("analytics/annual/", views.annual, name="annual"),
]
