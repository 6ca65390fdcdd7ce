from django.urls import path

from xietong.library import views

app_name = "library"

urlpatterns = [
    path("library/", views.search, name="search"),
    path("library/records/<int:record_id>/", views.record, name="record"),
    path("library/records/<int:record_id>/edit", views.record_edit, name="record-edit"),
    path("library/similar/", views.similar, name="similar"),
    path("library/consistency/", views.consistency_list, name="consistency"),
    path("library/collect", views.collect_now, name="collect"),
    path("cases/<int:case_id>/library-panel", views.case_panel, name="case-panel"),
]
