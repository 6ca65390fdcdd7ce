from django.urls import path

from xietong.web import views

app_name = "web"

urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/<int:case_id>/", views.case_detail, name="case-detail"),
    path("cases/<int:case_id>/act/<str:action>/", views.case_act, name="case-act"),
    path("transfers/<int:transfer_id>/<str:decision>/", views.transfer_decide, name="transfer-decide"),
    path("approvals/<int:request_id>/", views.approval_decide, name="approval-decide"),
    path("deadlines/", views.deadline_calculator, name="deadlines"),
    path("healthz", views.healthz, name="healthz"),
]
