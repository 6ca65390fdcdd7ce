from django.urls import path

from xietong.instruments import views

app_name = "instruments"

urlpatterns = [
    path("cases/<int:case_id>/instruments/new", views.instrument_new, name="create"),
    path("instruments/<int:instrument_id>/", views.instrument_detail, name="detail"),
    path("instruments/<int:instrument_id>/pdf", views.instrument_pdf, name="pdf"),
    path("instruments/<int:instrument_id>/step/<str:step>", views.instrument_step, name="step"),
    path("instruments/<int:instrument_id>/source", views.upload_source, name="source"),
    path("instruments/services/<int:service_id>/receipt", views.receipt, name="receipt"),
    path("instruments/register/", views.register, name="register"),
    path("verify/", views.verify, name="verify"),
    path("verify/t/<str:token>", views.verify_token, name="verify-token"),
    path("verify/t/<str:token>/proof.json", views.verify_proof, name="verify-proof"),
    path("verify/ca.pem", views.ca_certificate, name="ca"),
]
