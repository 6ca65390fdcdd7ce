"""Scan-quality flags on pages made to be bad in one way each."""

from __future__ import annotations

import pytest
from PIL import Image, ImageFilter

from tests.dossier.conftest import LINES, page_image
from xietong.dossier.render import quality_flags

CLEAN = page_image(LINES)


@pytest.mark.parametrize(
    ("image", "flags"),
    [
        (CLEAN, []),
        (Image.new("L", (1240, 1754), 250), ["blank"]),
        (CLEAN.filter(ImageFilter.GaussianBlur(3)), ["unreadable"]),
        (CLEAN.point(lambda v: 170 + v * 0.3), ["unreadable"]),
        (CLEAN.point(lambda v: v * 0.35), ["dark", "unreadable"]),
        (CLEAN.rotate(4, fillcolor=255), ["skewed"]),
        (CLEAN.rotate(-2.5, fillcolor=255), ["skewed"]),
        (CLEAN.rotate(0.5, fillcolor=255), []),
    ],
    ids=["clean", "blank", "blurred", "washed-out", "dark", "skewed-4", "skewed-minus-2.5", "slight-0.5"],
)
def test_quality_flags(image: Image.Image, flags: list[str]) -> None:
    assert quality_flags(image) == flags


def test_grey_scans_are_stored_grey_and_colour_pages_keep_their_colour(tmp_path: object) -> None:
    import io
    from pathlib import Path

    from xietong.dossier.render import render_pages

    grey = CLEAN.convert("RGB")
    seal = grey.copy()
    from PIL import ImageDraw

    ImageDraw.Draw(seal).ellipse((800, 1300, 1100, 1600), outline=(200, 20, 20), width=12)  # a red seal
    path = Path(str(tmp_path)) / "two.pdf"
    out = io.BytesIO()
    grey.save(out, "PDF", save_all=True, append_images=[seal], resolution=150)
    path.write_bytes(out.getvalue())
    modes = [
        Image.open(io.BytesIO(p.image)).mode
        for p in render_pages(path, "application/pdf", check_quality=False)
    ]
    assert modes == ["L", "RGB"]
