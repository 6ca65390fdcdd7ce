"""The workbench's 社区矫正 / 刑罚执行 card, put in with one include line (as the board's), so the
workbench view needs no change: the tag reads through the execution app's scoped selectors."""

from __future__ import annotations

from typing import Any

from django import template

from xietong.execution import selectors
from xietong.orgs.models import User

register = template.Library()


@register.inclusion_tag("execution/_workbench_panel.html", takes_context=True)
def execution_workbench(context: template.Context) -> dict[str, Any]:
    """Corrections staff see who must report and whose term ends soon; a prison's or 看守所's staff
    see those serving and whose term ends soon. Anyone else: nothing."""
    user = context.get("user")
    if not isinstance(user, User):
        return {"show": False}
    if selectors.is_corrections_staff(user):
        return {"show": True, "corrections": True, **selectors.corrections_summary(user)}
    prison = selectors.prison_summary(user)
    if prison is None:
        return {"show": False}
    return {"show": True, "corrections": False, **prison}
