from django.urls import path

from xietong.board import views

app_name = "board"

urlpatterns = [
    path("board/", views.inbox, name="inbox"),
    path("board/threads/<int:thread_id>/", views.thread, name="thread"),
    path("board/threads/<int:thread_id>/messages", views.post, name="post"),
    path("board/threads/<int:thread_id>/close", views.close, name="close"),
    path("board/attachments/<int:attachment_id>", views.attachment, name="attachment"),
    path("cases/<int:case_id>/board/new", views.thread_new, name="thread-new"),
]
