"""The reports section of the case page (``{% include "review/_case_reports.html" %}``)."""

from __future__ import annotations

from typing import Any

from django import template

from xietong.cases.models import Case
from xietong.orgs.models import User
from xietong.review import selectors

register = template.Library()


@register.simple_tag
def case_reports(case: Case, user: Any) -> dict[str, Any]:
    """The reports of ``case`` that ``user`` may read and the kinds he may start (both may be empty;
    the section is then not shown)."""
    if not isinstance(user, User):
        return {"reports": [], "kinds": []}
    return {
        "reports": selectors.reports_of_case(user=user, case=case),
        "kinds": selectors.kinds_for(user, case),
    }
