"""Response headers and the idle session timeout.

Django's ``SecurityMiddleware`` already sends HSTS, ``X-Content-Type-Options``, ``Referrer-Policy``
and ``Cross-Origin-Opener-Policy``, and ``XFrameOptionsMiddleware`` sends ``X-Frame-Options``; what
Django 5.2 lacks is a Content-Security-Policy, which this middleware adds (with ``frame-ancestors``
following the page's own frame option, so the review workspace and the instrument PDF can still be
framed by the platform itself and by nobody else).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Whether the session's expiry was pushed forward within the last few minutes: saving the session
# on every request (SESSION_SAVE_EVERY_REQUEST) would be a database write per page view, which the
# embedded SQLite mode serialises; once every few minutes keeps the idle timeout to that precision.
_SEEN_KEY = "_xietong_seen"


def _frame_ancestors(response: HttpResponse) -> str | None:
    if getattr(response, "xframe_options_exempt", False):
        return None
    if response.get("X-Frame-Options", "").upper() == "SAMEORIGIN":
        return "'self'"
    return "'none'"


def allow_inline_styles(response: HttpResponse) -> HttpResponse:
    """Let this one page keep ``<style>`` elements of its own (a third-party page, such as Swagger
    UI's, that we do not template): the policy's ``style-src`` gains ``'unsafe-inline'`` for it."""
    response.csp_inline_styles = True  # type: ignore[attr-defined]
    return response


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy and Permissions-Policy to every response that has none, and
    slides the session's idle expiry forward for signed-in users."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self._touch_session(request)
        response = self.get_response(request)
        policy: str = getattr(settings, "XIETONG_CSP", "")
        # Documents only: a PDF, an image or JSON runs no script, and a policy on a PDF can keep
        # the browser's own viewer from showing it in the instrument's frame.
        is_html = response.get("Content-Type", "").startswith("text/html")
        if policy and is_html and "Content-Security-Policy" not in response:
            if getattr(response, "csp_inline_styles", False):
                policy = policy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'", 1)
            ancestors = _frame_ancestors(response)
            if ancestors and "frame-ancestors" not in policy:
                policy = f"{policy.rstrip('; ')}; frame-ancestors {ancestors}"
            header = (
                "Content-Security-Policy-Report-Only"
                if getattr(settings, "XIETONG_CSP_REPORT_ONLY", False)
                else "Content-Security-Policy"
            )
            response[header] = policy
        permissions: str = getattr(settings, "XIETONG_PERMISSIONS_POLICY", "")
        if permissions and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = permissions
        return response

    @staticmethod
    def _touch_session(request: HttpRequest) -> None:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if session is None or user is None or not user.is_authenticated:
            return
        now = int(time.time())
        every: int = getattr(settings, "XIETONG_SESSION_TOUCH_SECONDS", 300)
        if now - int(session.get(_SEEN_KEY, 0)) >= every:
            # A modified session is saved with a fresh expiry of SESSION_COOKIE_AGE from now.
            session[_SEEN_KEY] = now


def mark_seen_at_login(sender: object, request: HttpRequest | None = None, **_: object) -> None:
    """A sign-in saves the session anyway: start its idle clock there, so the first page after it
    does not write the session a second time (``user_logged_in``; Django's own sign-in event)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[_SEEN_KEY] = int(time.time())
