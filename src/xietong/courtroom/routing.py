from django.urls import path

from xietong.courtroom.consumers import HearingConsumer

websocket_urlpatterns = [path("ws/hearings/<int:hearing_id>/", HearingConsumer.as_asgi())]
