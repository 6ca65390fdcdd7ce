from django.urls import path

from xietong.supervision import views

app_name = "supervision"

urlpatterns = [path("supervision/alerts/", views.alert_list, name="alerts")]
