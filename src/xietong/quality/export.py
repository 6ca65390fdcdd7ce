"""The campaign report (评查通报): per-unit results, the most frequent problems and each case's
score, as a page and as a PDF (WeasyPrint with the platform's CJK font; the chart drawn on the
server with ``analytics.charts``, since a PDF cannot run the browser's ECharts). Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote as _quote

from django.template.loader import render_to_string
from django.utils import timezone

from xietong.quality import selectors, standards
from xietong.quality.models import Campaign, CampaignCase, ReviewStatus


def quote(name: str) -> str:
    return _quote(name)


@dataclass
class CampaignReport:
    campaign: Campaign
    units: list[selectors.UnitResult]
    items: list[tuple[str, str, int]]
    reviews: list[CampaignCase]
    generated_at: datetime

    @property
    def title(self) -> str:
        return f"{self.campaign.name}情况通报"

    @property
    def filename(self) -> str:
        safe = "".join(ch for ch in self.title if ch not in '\\/:*?"<>|')
        return f"{safe}.pdf"

    @property
    def totals(self) -> dict[str, Any]:
        reviewed = sum(u.reviewed for u in self.units)
        total_score = sum(u.score_total for u in self.units)
        defects = sum(u.defect_total for u in self.units)
        rectified = sum(u.rectified for u in self.units)
        return {
            "drawn": sum(u.drawn for u in self.units),
            "reviewed": reviewed,
            "average": round(total_score / reviewed, 1) if reviewed else None,
            "defects": defects,
            "by_severity": {
                s.label: sum(u.defects.get(s.value, 0) for u in self.units) for s in standards.Severity
            },
            "rectified": rectified,
            "rectified_share": round(100 * rectified / defects, 1) if defects else None,
        }

    def chart_data(self) -> dict[str, Any]:
        """For the page's ECharts: average score and defects by class per unit."""
        return {
            "units": [u.unit for u in self.units],
            "scores": [u.average_score for u in self.units],
            "severities": [
                {"name": s.label, "data": [u.defects.get(s.value, 0) for u in self.units]}
                for s in standards.Severity
            ],
            "items": [{"name": f"{code} {text[:14]}", "value": n} for code, text, n in self.items[:10]],
        }

    def chart_png(self) -> bytes | None:
        reviewed = [u for u in self.units if u.reviewed]
        if not reviewed:
            return None
        from xietong.analytics import charts

        return charts.bar(
            [u.unit for u in reviewed],
            [u.average_score for u in reviewed],
            unit="平均分",
            horizontal=True,
            decimals=1,
            height=max(1.6, 0.45 * len(reviewed) + 0.8),
        )

    def html(self) -> str:
        from xietong.analytics import charts
        from xietong.pdf import CJK_FONT

        png = self.chart_png()
        when = self.generated_at
        return render_to_string(
            "quality/report_pdf.html",
            {
                "report": self,
                "totals": self.totals,
                "chart": charts.data_uri(png) if png else "",
                "font_url": CJK_FONT.as_uri() if CJK_FONT.exists() else "",
                "generated": f"{when.year}年{when.month}月{when.day}日",
                "severities": list(standards.Severity),
            },
        )

    def pdf(self) -> bytes:
        from weasyprint import HTML

        from xietong.pdf import font_only_fetcher

        data: bytes = HTML(string=self.html(), url_fetcher=font_only_fetcher()).write_pdf()
        return data


def campaign_report(*, campaign: Campaign) -> CampaignReport:
    units = selectors.campaign_results(campaign=campaign)
    reviews = [r for r in selectors.campaign_reviews(campaign=campaign) if r.status == ReviewStatus.SUBMITTED]
    return CampaignReport(
        campaign=campaign,
        units=units,
        items=selectors.item_labels(results=units),
        reviews=reviews,
        generated_at=timezone.localtime(),
    )
