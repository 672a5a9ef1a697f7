"""The signed pledge (Annex 1): a public page to verify it, and its PDF for the applicant and staff."""

from urllib.parse import quote

from flask import Response, abort, render_template
from flask_login import current_user

from qzt.models import PledgeSignature, User
from qzt.pledges import bp, pdf, signing
from qzt.rules.calendar import to_beijing


def get_signature_or_404(code: str) -> PledgeSignature:
    signature = signing.get_by_code(code)
    if signature is None:
        abort(404)
    return signature


def can_download(user: User, signature: PledgeSignature) -> bool:
    return user.is_authenticated and (user.is_staff or signature.application.applicant_id == user.id)


@bp.get("/verify/<code>")
def verify(code: str):
    """Anyone holding the code sees whether the pledge is genuine and in force; nothing personal."""
    signature = get_signature_or_404(code)
    return render_template(
        "pledges/verify.html",
        institution_name=signature.institution_name,
        pledge_version=signature.pledge_version,
        signed_at=to_beijing(signature.signed_at),
        text_sha256=signature.text_sha256,
        status=signing.status_label(signature),
        superseded=signing.is_superseded(signature),
    )


@bp.get("/pledges/<code>.pdf")
def pledge_pdf(code: str):
    """The signed pledge as a PDF download, for its applicant and for staff; 404 for anyone else."""
    signature = get_signature_or_404(code)
    if not can_download(current_user, signature):
        abort(404)
    response = Response(pdf.pledge_pdf(signature), mimetype="application/pdf")
    name = quote(f"承诺书-{signature.code}.pdf")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"pledge-{signature.code}.pdf\"; filename*=UTF-8''{name}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
