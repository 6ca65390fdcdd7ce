from django.urls import path

from xietong.supervision import views

app_name = "supervision"

urlpatterns = [
    path("supervision/alerts/", views.alert_list, name="alerts"),
    path("supervision/alerts/count", views.alert_count, name="alert-count"),
    path("supervision/alerts/<int:alert_id>/", views.alert_detail, name="alert"),
    path("supervision/alerts/<int:alert_id>/respond", views.alert_respond, name="alert-respond"),
    path("supervision/oversight/", views.oversight_page, name="oversight"),
]
