"""Template tags that put the board into other apps' pages with one include line each (the nav
link with its badge, the case page's panel, the workbench's 待答复留言), so those views need no
change: the tags read through the board's scoped selectors."""

from __future__ import annotations

from typing import Any

from django import template

from xietong import servertime
from xietong.board import selectors
from xietong.board.rules import last_day
from xietong.cases.models import Case
from xietong.orgs.models import User

register = template.Library()


def _user(context: template.Context) -> User | None:
    user = context.get("user")
    if user is None and context.get("request") is not None:
        user = context["request"].user
    return user if isinstance(user, User) else None


@register.inclusion_tag("board/_nav_link.html", takes_context=True)
def board_nav(context: template.Context, oob: bool = False) -> dict[str, Any]:
    """The 留言板 link with the count of threads waiting for the user's unit; ``oob`` marks it for
    an HTMX out-of-band swap, so an answer posted in place updates the badge too."""
    user = _user(context)
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    return {
        "show": user is not None and user.unit_id is not None,
        "count": selectors.waiting_count(user=user) if user is not None else 0,
        "active": getattr(match, "app_name", "") == "board" or oob,
        "oob": oob,
    }


@register.inclusion_tag("board/_case_panel.html", takes_context=True)
def board_case_panel(context: template.Context, case: Case) -> dict[str, Any]:
    user = _user(context)
    if user is None:
        return {"show": False}
    now = servertime.now()
    threads = selectors.threads_of_case(user=user, case=case)
    return {
        "show": True,
        "case": case,
        "rows": [(t, t.state(now), t.state_label(now), last_day(t.due_at)) for t in threads],
        "can_open": user.unit_id is not None
        and user.has_duty("handler", "dept_head", "leader", "clerk", "corrections_officer"),
    }


@register.inclusion_tag("board/_workbench_panel.html", takes_context=True)
def board_workbench(context: template.Context) -> dict[str, Any]:
    user = _user(context)
    if user is None:
        return {"show": False}
    now = servertime.now()
    threads = selectors.waiting_for_unit(user=user)
    return {
        "show": True,
        "rows": [(t, t.state(now), t.state_label(now), last_day(t.due_at)) for t in threads],
    }
