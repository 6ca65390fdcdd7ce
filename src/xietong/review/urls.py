from django.urls import path

from xietong.review import views

app_name = "review"

_R = "cases/<int:case_id>/reports/<int:report_id>/"

urlpatterns = [
    path("cases/<int:case_id>/reports/new/", views.report_new, name="new"),
    path(_R, views.workspace, name="workspace"),
    path(_R + "save", views.save, name="save"),
    path(_R + "finalise", views.finalise, name="finalise"),
    path(_R + "versions/", views.versions, name="versions"),
    path(_R + "versions/<int:number>/", views.version_view, name="version"),
    path(_R + "versions/<int:number>/restore", views.restore, name="restore"),
    path(_R + "export.docx", views.export_docx, name="export-docx"),
    path(_R + "export.pdf", views.export_pdf, name="export-pdf"),
    path(_R + "reader/", views.reader_first, name="reader-first"),
    path(_R + "reader/<int:volume_id>/", views.reader, name="reader"),
]
