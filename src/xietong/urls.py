from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from xietong.analytics import api as analytics_api
from xietong.cases import api as cases_api
from xietong.clients import api as clients_api
from xietong.execution import api as execution_api
from xietong.instruments import api as instruments_api
from xietong.ledger import api as ledger_api
from xietong.library import api as library_api
from xietong.orgs import api as orgs_api
from xietong.security.headers import allow_inline_styles


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI. The split view serves its start-up script as a file (the CSP forbids inline
    scripts); drf-spectacular's page still carries a ``<style>`` element, allowed on this page only."""

    @extend_schema(exclude=True)
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return allow_inline_styles(super().get(request, *args, **kwargs))


api_v1 = [
    path("auth/token", orgs_api.TokenApi.as_view(), name="token"),
    path("oauth/token", clients_api.OAuthTokenApi.as_view(), name="oauth-token"),
    path("me", orgs_api.MeApi.as_view(), name="me"),
    path("deadlines/compute", cases_api.DeadlineComputeApi.as_view(), name="deadline-compute"),
    path("deadlines/rules", cases_api.DeadlineRulesApi.as_view(), name="deadline-rules"),
    path("cases", cases_api.CaseListApi.as_view(), name="case-list"),
    path("cases/<int:case_id>", cases_api.CaseDetailApi.as_view(), name="case-detail"),
    path("cases/<int:case_id>/timeline", cases_api.CaseTimelineApi.as_view(), name="case-timeline"),
    path("cases/<int:case_id>/actions/<str:action>", cases_api.CaseActApi.as_view(), name="case-act"),
    path("inbox", cases_api.InboxApi.as_view(), name="inbox"),
    path("library/similar", library_api.SimilarApi.as_view(), name="library-similar"),
    path("analytics/figures", analytics_api.FiguresApi.as_view(), name="analytics-figures"),
    path("analytics/warnings", analytics_api.WarningsApi.as_view(), name="analytics-warnings"),
    path("library/records", library_api.RecordSearchApi.as_view(), name="library-records"),
    path("library/records/<int:record_id>", library_api.RecordApi.as_view(), name="library-record"),
    path("cases/<int:case_id>/custody", execution_api.CaseCustodyApi.as_view(), name="case-custody"),
    path("supervisees", execution_api.SuperviseeListApi.as_view(), name="supervisee-list"),
    path(
        "supervisees/<int:supervisee_id>/plan",
        execution_api.SuperviseePlanApi.as_view(),
        name="supervisee-plan",
    ),
    path(
        "supervisees/<int:supervisee_id>/discharge",
        execution_api.SuperviseeDischargeApi.as_view(),
        name="supervisee-discharge",
    ),
    path("transfers/<int:transfer_id>/accept", cases_api.TransferAcceptApi.as_view(), name="transfer-accept"),
    path("transfers/<int:transfer_id>/return", cases_api.TransferReturnApi.as_view(), name="transfer-return"),
    path("approvals", cases_api.ApprovalListApi.as_view(), name="approval-list"),
    path("approvals/<int:request_id>/decide", cases_api.ApprovalDecideApi.as_view(), name="approval-decide"),
    path("workbench", cases_api.WorkbenchApi.as_view(), name="workbench"),
    path("instruments/catalogue", instruments_api.CatalogueApi.as_view(), name="instrument-catalogue"),
    path(
        "cases/<int:case_id>/instruments",
        instruments_api.CaseInstrumentsApi.as_view(),
        name="case-instruments",
    ),
    path("instruments/<int:instrument_id>", instruments_api.InstrumentApi.as_view(), name="instrument"),
    path(
        "instruments/<int:instrument_id>/pdf",
        instruments_api.InstrumentPdfApi.as_view(),
        name="instrument-pdf",
    ),
    path(
        "instruments/<int:instrument_id>/source",
        instruments_api.InstrumentSourceApi.as_view(),
        name="instrument-source",
    ),
    path(
        "instruments/<int:instrument_id>/<str:step>",
        instruments_api.InstrumentStepApi.as_view(),
        name="instrument-step",
    ),
    path("services/<int:service_id>/receipt", instruments_api.ReceiptApi.as_view(), name="service-receipt"),
    path("verify", instruments_api.VerifyApi.as_view(), name="verify"),
    path("ledger/tree-head", ledger_api.TreeHeadApi.as_view(), name="tree-head"),
    path("ledger/proofs/inclusion", ledger_api.InclusionProofApi.as_view(), name="inclusion-proof"),
    path("ledger/proofs/consistency", ledger_api.ConsistencyProofApi.as_view(), name="consistency-proof"),
]

urlpatterns = [
    path("api/v1/", include((api_v1, "api"))),
    path("api/v1/", include(("xietong.dossier.urls_api", "dossier-api"))),
    path("api/v1/", include(("xietong.board.urls_api", "board-api"))),
    path("api/v1/", include(("xietong.feeds.urls_api", "feeds-api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("", include("xietong.dossier.urls")),
    path("", include("xietong.review.urls")),
    path("", include("xietong.instruments.urls")),
    path("", include("xietong.supervision.urls")),
    path("", include("xietong.execution.urls")),
    path("", include("xietong.library.urls")),
    path("", include("xietong.analytics.urls")),
    path("", include("xietong.courtroom.urls")),
    path("", include("xietong.quality.urls")),
    path("", include("xietong.board.urls")),
    path("", include("xietong.security.urls")),
    path("", include("xietong.web.urls")),
]

handler404 = "xietong.web.views.not_found"
handler403 = "xietong.web.views.forbidden"
handler500 = "xietong.web.views.server_error"
