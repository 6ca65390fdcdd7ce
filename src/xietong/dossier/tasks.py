"""Thin background wrappers; each calls one idempotent service."""

from __future__ import annotations

from django_tasks import task

from xietong.dossier.services import volume_process


@task(queue_name="dossier")
def volume_process_task(volume_id: int) -> str:
    return volume_process(volume_id=volume_id).status
