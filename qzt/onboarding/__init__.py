"""Onboarding: registration, the application wizard, the signed pledge (Art. 5–10, Annex 1).

The routes live in views.py and pledge_views.py; create_app imports them. Importing this package
alone (e.g. for the pure draft module) loads no views.
"""

from flask import Blueprint

bp = Blueprint("onboarding", __name__)
