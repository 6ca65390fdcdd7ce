"""Tables to Excel (openpyxl, write-only mode: rows stream out without a cell object per value kept in
memory, so a 100,000-row case list exports in seconds)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

Column = tuple[str, str]  # (key in each row, heading)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F2")


def xlsx(*, title: str, columns: Sequence[Column], rows: Iterable[dict[str, Any]], note: str = "") -> bytes:
    """One sheet: a title line, an optional note (the filters), the header and the rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    for index, (_, heading) in enumerate(columns):
        sheet.column_dimensions[get_column_letter(index + 1)].width = max(10, len(heading) * 2 + 4)
    heading_cell = WriteOnlyCell(sheet, value=title)
    heading_cell.font = Font(bold=True, size=14)
    sheet.append([heading_cell])
    if note:
        sheet.append([note])
    header = []
    for _, heading in columns:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(row.get(key)) for key, _ in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return value
