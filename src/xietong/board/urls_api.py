from django.urls import path

from xietong.board import api

app_name = "board-api"

urlpatterns = [
    path("board/threads", api.ThreadListApi.as_view(), name="threads"),
    path("board/threads/<int:thread_id>", api.ThreadApi.as_view(), name="thread"),
    path("board/threads/<int:thread_id>/messages", api.MessagePostApi.as_view(), name="messages"),
    path("board/threads/<int:thread_id>/close", api.ThreadCloseApi.as_view(), name="close"),
]
