"""The score sheet (Annex 2) in print: one assessment's, or the blank form for paper use."""

from qzt.assessments import services
from qzt.core.http import external_url
from qzt.data import score_sheet
from qzt.documents import qr_data_uri, render_pdf
from qzt.models import Assessment
from qzt.rules import assessment as rules

TEMPLATE = "pdf/score_sheet.html"


def context(assessment: Assessment | None) -> dict:
    """What the print template needs; with None, the blank form (no ticks, no score, no code)."""
    lines = []
    items = {i.number: i for i in assessment.items} if assessment is not None else {}
    for item in rules.ITEMS:
        line = items.get(item.number)
        lines.append(
            {
                "item": item,
                "deducts": line.deducts if line is not None else None,
                "remark": remark(line) if line is not None else "",
            }
        )
    ctx = {"title": score_sheet.TITLE, "notes": score_sheet.NOTES, "lines": lines, "assessment": assessment}
    if assessment is not None:
        score = assessment.score if assessment.score is not None else services.current_score(assessment)
        verify_url = external_url("assessments.verify", assessment_code=assessment.code)
        ctx |= {
            "score": score,
            "passed": rules.passed(score),
            "verify_url": verify_url,
            "qr": qr_data_uri(verify_url),
        }
    return ctx


def remark(line) -> str:
    """备注: the evidence in one line; where the operator decided against the records, a note of it (the
    reason itself is on the assessment page: every reason in full would push the sheet onto a 2nd page)."""
    return f"{line.summary}；运维机构核实后改判" if line.overridden else line.summary


def sheet_pdf(assessment: Assessment | None) -> bytes:
    return render_pdf(TEMPLATE, sheets=[context(assessment)])


def sheets_pdf(assessments: list[Assessment]) -> bytes:
    """Several sheets in one document, one page each."""
    return render_pdf(TEMPLATE, sheets=[context(a) for a in assessments])
