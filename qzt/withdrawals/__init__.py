"""Leaving the platform (Art. 12): an applicant withdraws its application; a listed institution files a
written request, the operator settles leftover matters, the authority completes the exit."""

from flask import Blueprint

bp = Blueprint("withdrawals", __name__)
