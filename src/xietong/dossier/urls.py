from django.urls import path

from xietong.dossier import views

app_name = "dossier"

urlpatterns = [
    path("cases/<int:case_id>/files/", views.case_files, name="case-files"),
    path("volumes/<int:volume_id>/", views.volume_reader, name="reader"),
    path("volumes/<int:volume_id>/catalogue/", views.catalogue_save, name="catalogue-save"),
    path("pages/<int:page_id>/image", views.page_image, name="page-image"),
    path("pages/<int:page_id>/thumb", views.page_thumb, name="page-thumb"),
    path("evidence/<int:evidence_id>/media", views.evidence_media, name="evidence-media"),
    path("search/", views.search_page, name="search"),
]
