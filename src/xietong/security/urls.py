from django.urls import path

from xietong.security import views

app_name = "security"

urlpatterns = [
    path("security/2fa/", views.two_factor, name="two-factor"),
]
