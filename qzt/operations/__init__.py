"""Running the platform (the operator's tools): working-day calendar corrections and SMS notices that
need a person."""

from flask import Blueprint

bp = Blueprint("operations", __name__, url_prefix="/staff")
