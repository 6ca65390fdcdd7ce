from django.urls import path

from xietong.dossier import api

urlpatterns = [
    path("cases/<int:case_id>/uploads", api.UploadStartApi.as_view(), name="upload-start"),
    path("cases/<int:case_id>/volumes", api.CaseVolumesApi.as_view(), name="case-volumes"),
    path("uploads/<uuid:upload_id>", api.UploadApi.as_view(), name="upload"),
    path("uploads/<uuid:upload_id>/finish", api.UploadFinishApi.as_view(), name="upload-finish"),
    path("volumes/<int:volume_id>", api.VolumeApi.as_view(), name="volume"),
    path("pages/<int:page_id>/words", api.PageWordsApi.as_view(), name="page-words"),
    path("search", api.SearchApi.as_view(), name="search"),
]
