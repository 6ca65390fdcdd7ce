from django.urls import path

from xietong.quality import views

app_name = "quality"

urlpatterns = [
    path("quality/", views.index, name="index"),
    path("quality/campaigns/new", views.campaign_new, name="campaign-new"),
    path("quality/campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign"),
    path("quality/campaigns/<int:campaign_id>/reviewers", views.campaign_reviewer_add, name="reviewer-add"),
    path("quality/campaigns/<int:campaign_id>/draw", views.campaign_draw, name="draw"),
    path("quality/campaigns/<int:campaign_id>/assign-auto", views.campaign_assign_auto, name="assign-auto"),
    path("quality/campaigns/<int:campaign_id>/close", views.campaign_close, name="close"),
    path("quality/campaigns/<int:campaign_id>/results", views.campaign_results, name="results"),
    path("quality/reviews/<int:review_id>/assign", views.review_assign, name="assign"),
    path("quality/reviews/<int:review_id>/overview", views.review_overview, name="overview"),
    path("quality/reviews/<int:review_id>/", views.workspace, name="workspace"),
    path(
        "quality/reviews/<int:review_id>/pages/<int:page_id>/image",
        views.review_page_image,
        name="page-image",
    ),
    path(
        "quality/reviews/<int:review_id>/instruments/<int:instrument_id>/pdf",
        views.review_instrument_pdf,
        name="instrument-pdf",
    ),
    path("quality/reviews/<int:review_id>/defects", views.defect_add, name="defect-add"),
    path(
        "quality/reviews/<int:review_id>/defects/<int:defect_id>/remove",
        views.defect_remove,
        name="defect-remove",
    ),
    path(
        "quality/reviews/<int:review_id>/findings/<int:finding_id>/<str:decision>",
        views.finding_decide,
        name="finding-decide",
    ),
    path("quality/reviews/<int:review_id>/prescreen", views.review_prescreen, name="prescreen"),
    path("quality/reviews/<int:review_id>/submit", views.review_submit, name="submit"),
    path("quality/defects/<int:defect_id>/crop", views.defect_crop, name="crop"),
    path("quality/feedback/<int:review_id>/", views.feedback, name="feedback"),
    path("quality/defects/<int:defect_id>/answer", views.defect_answer, name="answer"),
]
