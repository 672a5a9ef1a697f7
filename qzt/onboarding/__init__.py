"""Onboarding (Art. 5–10): registration and the application wizard up to submission."""

from flask import Blueprint

bp = Blueprint("onboarding", __name__)
