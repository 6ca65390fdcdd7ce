from django.conf import settings
from django.urls import path

from xietong.courtroom.consumers import EchoConsumer, HearingConsumer

websocket_urlpatterns = [path("ws/hearings/<int:hearing_id>/", HearingConsumer.as_asgi())]
if settings.XIETONG_WS_ECHO:  # `bench courtroom`'s baseline: the same stack, no application logic
    websocket_urlpatterns.append(path("ws/echo/", EchoConsumer.as_asgi()))
