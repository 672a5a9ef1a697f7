"""Tables of figures as pages show them and as Excel downloads (openpyxl)."""

import io
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Table:
    key: str  # stable, ASCII: the export's URL and file name
    title: str
    columns: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    note: str = ""  # how it is counted, printed under the table and in the sheet
    total: tuple | None = None  # a 合计 row under the rows
    text_columns: tuple[int, ...] = (0,)  # the others are figures, aligned right

    @property
    def empty(self) -> bool:
        return not any(any(isinstance(v, int | float) and v for v in row[1:]) for row in self.rows)

    def column(self, index: int) -> list:
        return [row[index] for row in self.rows]


def xlsx(tables: list[Table], heading: str = "") -> bytes:
    """One worksheet per table: the heading (e.g. the period), the columns, the rows, the note."""
    import openpyxl  # only needed for downloads; it takes a moment to import
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title))
        if heading:
            sheet.append([f"{table.title}（{heading}）"])
            sheet["A1"].font = Font(bold=True)
        sheet.append(list(table.columns))
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(list(row))
        if table.total:
            sheet.append(list(table.total))
        if table.note:
            sheet.append([])
            sheet.append([table.note])
        sheet.column_dimensions["A"].width = 24
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    """Excel's sheet names: at most 31 characters, none of []:*?/\\."""
    return "".join(c for c in title if c not in "[]:*?/\\")[:31]


def download(data: bytes, mimetype: str, ascii_name: str, name: str) -> Response:
    """Bytes as an attachment named `name` (Chinese allowed; `ascii_name` for old clients), never cached."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
