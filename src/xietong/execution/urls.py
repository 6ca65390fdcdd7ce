from django.urls import path

from xietong.execution import views

app_name = "execution"

urlpatterns = [
    path("execution/", views.board, name="board"),
    path("execution/supervisees/<int:supervisee_id>/report", views.report, name="report"),
    path("execution/supervisees/<int:supervisee_id>/plan", views.plan, name="plan"),
    path("execution/supervisees/<int:supervisee_id>/discharge", views.discharge, name="discharge"),
    path("execution/supervisees/<int:supervisee_id>/revoke", views.revoke, name="revoke"),
    path("execution/persons/<int:party_id>/release", views.release, name="release"),
    path("execution/persons/<int:party_id>/parole", views.parole, name="parole"),
    path("execution/custody-check/", views.custody_check, name="custody-check"),
    path("execution/custody-check/run", views.custody_check_run, name="custody-check-run"),
]
