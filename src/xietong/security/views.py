"""The second sign-in step: enrol an authenticator (QR code) or enter its current code."""

from __future__ import annotations

import base64
import io

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from xietong.errors import DomainError
from xietong.orgs.models import User
from xietong.security import services
from xietong.security.middleware import mark_two_factor_passed
from xietong.security.models import AuditKind

MAX_FAILURES = 5
_FAILURES_KEY = "_xietong_2fa_failures"


def _qr_data_uri(uri: str) -> str:
    import segno

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="png", scale=5, border=2)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):  # login_required let only a signed-in person through
        return redirect("web:login")
    nxt = request.GET.get("next") or request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = ""
    error = None
    if request.method == "POST":
        try:
            services.totp_verify(user=user, code=request.POST.get("code", ""))
        except DomainError as exc:
            failures = int(request.session.get(_FAILURES_KEY, 0)) + 1
            request.session[_FAILURES_KEY] = failures
            locked = failures >= MAX_FAILURES
            services.audit_record(
                request,
                kind=AuditKind.TOTP_LOCKOUT if locked else AuditKind.TOTP_FAILURE,
                what=f"动态口令错误（第 {failures} 次）：{exc.code}",
                detail={"failures": failures, "code": exc.code},
            )
            if locked:
                from django.contrib.auth import logout

                logout(request)
                return redirect("web:login")
            error = exc.message
        else:
            request.session.pop(_FAILURES_KEY, None)
            mark_two_factor_passed(request)
            return redirect(nxt or "web:workbench")
    enrolled = services.device_confirmed(user)
    context: dict[str, object] = {"enrolled": enrolled, "error": error, "next": nxt}
    if not enrolled:
        secret = services.totp_pending_secret(user=user)
        if secret is None:
            secret, uri = services.totp_enrol_start(user=user)
        else:
            from xietong.security import totp

            uri = totp.provisioning_uri(secret, account=user.username, issuer=services.ISSUER)
        context.update({"secret": secret, "qr": _qr_data_uri(uri)})
    return render(request, "security/two_factor.html", context, status=400 if error else 200)
