"""Supervision (Art. 12, 15, 17): ratings and the follow-up of negative ones; the staff's view of each
listed institution, hiding and showing its homepage, expulsion and removal; Art. 17's one-month rule."""

from flask import Blueprint

bp = Blueprint("supervision", __name__)
