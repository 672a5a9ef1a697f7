"""The signed pledge (Annex 1): a public page to verify it, and its PDF for the applicant and staff."""

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from qzt.core import audit
from qzt.documents import pdf_response
from qzt.models import PledgeSignature, User
from qzt.pledges import bp, pdf, signing
from qzt.rules.calendar import to_beijing

MAX_CODE = 32  # PledgeSignature.code


def get_signature_or_404(code: str) -> PledgeSignature:
    signature = signing.get_by_code(code)
    if signature is None:
        abort(404)
    return signature


def can_download(user: User, signature: PledgeSignature) -> bool:
    return user.is_authenticated and (user.is_staff or signature.application.applicant_id == user.id)


@bp.get("/verify")
def verify_form():
    """Where a code is typed in (from the pledge's PDF); ?code= goes to its page."""
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("pledges.verify", code=code))
    return render_template("pledges/verify_form.html", code="", not_found=False)


@bp.get("/verify/<code>")
def verify(code: str):
    """Anyone holding the code sees whether the pledge is genuine and in force; nothing personal. A
    code matching nothing: the form again, saying so, with the code as typed (404 all the same)."""
    signature = signing.get_by_code(code) if len(code) <= MAX_CODE else None
    if signature is None:
        return render_template("pledges/verify_form.html", code=code[:MAX_CODE], not_found=True), 404
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
    audit.downloaded(signature, "承诺书PDF")
    return pdf_response(
        pdf.pledge_pdf(signature), f"pledge-{signature.code}.pdf", f"承诺书-{signature.code}.pdf"
    )
