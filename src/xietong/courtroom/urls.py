from django.urls import path

from xietong.courtroom import views

app_name = "courtroom"

urlpatterns = [
    path("cases/<int:case_id>/hearings/open", views.hearing_open, name="open"),
    path("hearings/<int:hearing_id>/", views.room, name="room"),
    path("hearings/<int:hearing_id>/codes", views.code_new, name="code"),
    path("hearings/<int:hearing_id>/screen", views.screen, name="screen"),
    path("hearings/<int:hearing_id>/image", views.image, name="image"),
    path("hearings/<int:hearing_id>/media", views.media, name="media"),
    path("hearings/<int:hearing_id>/record", views.record, name="record"),
]
