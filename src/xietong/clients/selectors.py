"""Reads for system clients: the listing of the management command and the lookups behind
authentication."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from xietong.clients.models import ClientCredential, ClientToken, SystemClient, sha256_hex


def client_list() -> QuerySet[SystemClient]:
    return SystemClient.objects.select_related("unit").prefetch_related("credentials", "user__appointments")


def client_token_live(*, raw: str) -> ClientToken | None:
    """The token if it, its credential and its client are all still valid — one query, so a
    revocation or the end of a rotation overlap takes effect on the next request."""
    now = timezone.now()
    return (
        ClientToken.objects.select_related("credential__client__user__unit", "credential__client")
        .filter(
            token_hash=sha256_hex(raw),
            expires_at__gt=now,
            revoked_at__isnull=True,
            credential__revoked_at__isnull=True,
            credential__client__status="active",
            credential__client__user__is_active=True,
        )
        .exclude(credential__expires_at__lte=now)
        .first()
    )


def client_live_credentials(*, client_id: str) -> tuple[SystemClient | None, list[ClientCredential]]:
    """An active client and its credentials usable now (at most two during a rotation overlap)."""
    now = timezone.now()
    client = (
        SystemClient.objects.select_related("user__unit")
        .filter(client_id=client_id, status="active", user__is_active=True)
        .first()
    )
    if client is None:
        return None, []
    creds = [c for c in client.credentials.filter(revoked_at__isnull=True) if c.is_live(now)]
    return client, creds
