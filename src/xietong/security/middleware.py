"""The second sign-in step: after the password, a person who needs two factors is held at the
TOTP page until he passes it (or enrols). A middleware rather than a change to the login view, so
that every way into a session (the login page, the admin's login, a future SSO) is covered."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from xietong.orgs.models import User
from xietong.security.services import two_factor_required

PASSED_KEY = "_xietong_2fa_user"
# Reachable before the second step: the step itself, leaving, and what needs no login anyway.
_EXEMPT = ("/security/2fa", "/logout/", "/login/", "/static/", "/healthz", "/verify", "/admin/logout/")


def two_factor_passed(request: HttpRequest) -> bool:
    return bool(request.session.get(PASSED_KEY) == request.user.pk)


def mark_two_factor_passed(request: HttpRequest) -> None:
    request.session.cycle_key()  # a new session id once the person is fully signed in
    request.session[PASSED_KEY] = request.user.pk


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            isinstance(user, User)
            and not request.path.startswith(_EXEMPT)
            and two_factor_required(user)
            and not two_factor_passed(request)
        ):
            if request.path.startswith("/api/"):
                # A session (browser) call to the API; bearer tokens are not seen here.
                body = {"code": "two_factor_required", "message": "请先完成动态口令验证"}
                return JsonResponse(body, status=403)
            target = reverse("security:two-factor")
            nxt = request.get_full_path()
            if url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
                target = f"{target}?next={nxt}"
            return redirect(target)
        return self.get_response(request)
