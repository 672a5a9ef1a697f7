"""The pledge (承诺书, Annex 1): its versioned texts, signing, the PDF, and the public check /verify.

Onboarding signs through ``signing``; review and the status page show the latest signature.
"""

from flask import Blueprint

bp = Blueprint("pledges", __name__)
