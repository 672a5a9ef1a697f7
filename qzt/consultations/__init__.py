"""Consultations (Art. 14): an enterprise asks a listed institution online, the institution replies
within the Art. 14 response times; the institution's workbench and the staff's figures."""

from flask import Blueprint

bp = Blueprint("consultations", __name__)


def init_app(app) -> None:
    from qzt.consultations import services

    app.context_processor(services.header_counts)
