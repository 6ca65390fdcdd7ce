"""DRF exception handler: every error body is ``{"code": ..., "message": ...}`` in Chinese."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from xietong.errors import DomainError

_DRF_MESSAGES = {
    exceptions.NotAuthenticated: ("not_authenticated", "未登录或令牌无效"),
    exceptions.AuthenticationFailed: ("authentication_failed", "身份验证失败"),
    exceptions.PermissionDenied: ("forbidden", "无权执行此操作"),
    exceptions.NotFound: ("not_found", "未找到"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "不支持该请求方法"),
    exceptions.ParseError: ("parse_error", "请求内容无法解析"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "不支持的内容类型"),
    exceptions.Throttled: ("throttled", "请求过于频繁，请稍后再试"),
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"code": "invalid", "message": "请求参数有误", "details": response.data}
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    for exc_type, (code, message) in _DRF_MESSAGES.items():
        if isinstance(exc, exc_type):
            response.data = {"code": code, "message": message}
            break
    return response
