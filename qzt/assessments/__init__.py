"""The annual assessment (Art. 16–17, Annex 2): each ended cycle's score sheet prefilled from the records,
the operator's review, the authority's decision, the institution's result and self-summary, the printed
sheet and its public check."""

from flask import Blueprint

bp = Blueprint("assessments", __name__)


def init_app(app) -> None:
    """Batch printing runs in the background worker (`qzt tick`)."""
    from qzt.assessments import printing

    printing.register(app)
