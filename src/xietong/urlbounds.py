"""Ids in URLs are bounded by the database's 64-bit keys. Django's ``<int:…>`` accepts any number
of digits, and an id past 2**63−1 made the database driver fail (OverflowError on SQLite, a
DataError on PostgreSQL), which surfaced as a 500. Such an id names nothing, so it is a 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

MAX_ID = 2**63 - 1


class BoundedIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        if any(isinstance(v, int) and not -MAX_ID <= v <= MAX_ID for v in view_kwargs.values()):
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "not_found", "message": "未找到"}, status=404)
            raise Http404
        return None
