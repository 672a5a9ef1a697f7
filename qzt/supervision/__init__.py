"""Supervision (Art. 12, 15, 17): the staff's view of each listed institution, hiding and showing its
homepage, expulsion and removal, and Art. 17's one-month rule run by `qzt tick`."""

from flask import Blueprint

bp = Blueprint("supervision", __name__, url_prefix="/staff")
