"""``Idempotency-Key`` for API writes: a retried request (lost reply, double click, agency system
resend) is applied once and answered with the stored reply. The key row is inserted in the same
transaction as the act, so a concurrent duplicate waits on the unique index and then replays."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from xietong.cases.models import IdempotencyRecord
from xietong.errors import Conflict
from xietong.orgs.models import User


class _Rollback(Exception):
    def __init__(self, response: Response):
        self.response = response


def _jsonable(value: object) -> str:
    """An uploaded file counts by its content, so a retry with another file under the same key is
    refused as a reuse rather than answered with the first file's reply."""
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return f"file:{digest.hexdigest()}"
    return str(value)


def run_idempotent(request: Request, compute: Callable[[], Response]) -> Response:
    key = request.headers.get("Idempotency-Key", "").strip()
    user = request.user
    if not key or not isinstance(user, User):
        return compute()
    if len(key) > 100:
        raise Conflict("Idempotency-Key 过长（最多100个字符）", code="idempotency_key_invalid")
    body = json.dumps(request.data, sort_keys=True, default=_jsonable, ensure_ascii=False)
    fingerprint = hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(user=user, key=key, fingerprint=fingerprint)
            except IntegrityError:
                record = IdempotencyRecord.objects.get(user=user, key=key)
                if record.fingerprint != fingerprint:
                    raise Conflict(
                        "同一 Idempotency-Key 已用于另一个请求", code="idempotency_key_reused"
                    ) from None
                replay = Response(record.body, status=record.status_code)
                replay["Idempotent-Replayed"] = "true"
                return replay
            response = compute()
            if response.status_code >= 400:
                raise _Rollback(response)  # failures are not remembered: a corrected retry may succeed
            record.status_code = response.status_code
            # Stored as the client saw it (DRF's encoding of dates), so a replay is byte-identical.
            record.body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            record.save(update_fields=["status_code", "body"])
            return response
    except _Rollback as rollback:
        return rollback.response
