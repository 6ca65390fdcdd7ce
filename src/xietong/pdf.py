"""What every PDF the platform renders with WeasyPrint shares: the CJK font (Debian's
``fonts-wqy-zenhei``, TrueType, so subsetting is fast — DEPENDENCIES.md) and a URL fetcher that
may read that font and inline ``data:`` images and nothing else, so that no text in a document can
make the server fetch a file or a URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def font_only_fetcher() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class FontOnly(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if url == CJK_FONT.as_uri():
                return URLFetcherResponse(url, CJK_FONT.read_bytes(), {"Content-Type": "font/collection"})
            if url.startswith("data:"):
                return super().fetch(url, headers)
            raise ValueError(f"refused to fetch {url}")

    return FontOnly()
