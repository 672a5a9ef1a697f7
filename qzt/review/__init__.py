"""Review (Art. 3, 10–11): the staff queue, one application's review and the admission decisions."""

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/staff")
