"""DRF exception handler: every error body is ``{"code": ..., "message": ...}`` in Chinese."""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from xietong import faults
from xietong.errors import DomainError

_DRF_MESSAGES = {
    exceptions.NotAuthenticated: ("not_authenticated", "未登录或令牌无效"),
    exceptions.AuthenticationFailed: ("authentication_failed", "身份验证失败"),
    exceptions.PermissionDenied: ("forbidden", "无权执行此操作"),
    exceptions.NotFound: ("not_found", "未找到"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "不支持该请求方法"),
    exceptions.ParseError: ("parse_error", "请求内容无法解析"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "不支持的内容类型"),
    exceptions.Throttled: ("rate_limited", "请求过于频繁，请稍后再试"),
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, OverflowError | DataError):
        # A number the database cannot hold (an offset or id past 64 bits): bad input, not a fault.
        # The atomic block it was raised in has already rolled back, so nothing is half-applied.
        body = {"code": "value_out_of_range", "message": "参数数值超出允许范围"}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    fault = faults.classify(exc)
    if fault is not None:  # the database restarting, the disk full: say so, the client may retry
        return Response(
            fault.as_dict(), status=fault.status, headers={"Retry-After": str(faults.RETRY_AFTER_SECONDS)}
        )
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
    if isinstance(exc, exceptions.AuthenticationFailed) and exc.get_codes() != exc.default_code:
        # A specific refusal (signature_stale, signature_invalid …) keeps its own code and message.
        response.data = {"code": exc.get_codes(), "message": str(exc.detail)}
        return response
    for exc_type, (code, message) in _DRF_MESSAGES.items():
        if isinstance(exc, exc_type):
            response.data = {"code": code, "message": message}
            break
    wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
    if wait:
        # DRF already sends Retry-After; the message says the same to a person.
        response.data["message"] = f"请求过于频繁，请 {math.ceil(wait)} 秒后再试"
    return response
