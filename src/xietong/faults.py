"""Faults of the machinery, not of the request: the database gone (restarting, failing over, out of
connections), the object store unreachable or overloaded (S3: no connection, timeouts, 5xx such as
SlowDown), or the disk full. A person and an agency system are told what happened and that they
may try again — 503 or 507 with a stable code and a Chinese message — instead of a bare 500. The
request's transaction was rolled back by the error, so nothing of it is half-stored, and a write
sent again with the same Idempotency-Key is applied once.

One classification, used by the API's exception handler (``api_errors``) and by the pages' error
view (``web.views.server_error``, which runs inside the ``except`` that caught the error)."""

from __future__ import annotations

import errno
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError

RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class Fault:
    status: int
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


DATABASE_UNAVAILABLE = Fault(
    503, "database_unavailable", "数据库暂时不可用（可能正在重启或切换），请稍后重试"
)
STORAGE_FULL = Fault(507, "storage_full", "存储空间已满，文件未保存；请通知系统管理员扩容后重试")
STORAGE_UNAVAILABLE = Fault(
    503, "storage_unavailable", "文件存储暂时不可用，文件未保存或未能读取，请稍后重试"
)


def _object_store_down(exc: BaseException) -> bool:
    """botocore's errors of the connection (refused, timed out, dropped) and the store's own 5xx
    (500, 503 SlowDown): the store is away or overloaded, not the request wrong. A 4xx (no such
    bucket, access denied) is a misconfiguration and stays a 500 for the administrator's log."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError  # slow to import: here

    if isinstance(exc, ConnectionError | HTTPClientError):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return int(status) >= 500
    return False


def classify(exc: BaseException | None) -> Fault | None:
    """The fault behind ``exc`` (or its cause), or None for an ordinary error."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OperationalError | InterfaceError):
            return DATABASE_UNAVAILABLE
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return STORAGE_FULL
        if _object_store_down(exc):
            return STORAGE_UNAVAILABLE
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None
