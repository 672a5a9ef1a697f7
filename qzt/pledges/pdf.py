"""The signed pledge (承诺书, Annex 1) as a PDF, with the evidence that ties it to its signature."""

from qzt.core import files
from qzt.core.http import external_url
from qzt.documents import data_uri, qr_data_uri, render_pdf
from qzt.models import PledgeSignature
from qzt.pledges import texts
from qzt.rules.calendar import to_beijing

TEMPLATE = "pdf/pledge.html"


def pledge_context(signature: PledgeSignature) -> dict:
    """What the print template needs: the signed version's text, the signature and the evidence."""
    text = texts.get(signature.pledge_version)
    if text is None:
        raise LookupError(f"pledge version {signature.pledge_version} is missing from qzt/data/pledges")
    verify_url = external_url("pledges.verify", code=signature.code)
    stored = signature.signature_file
    return {
        "signature": signature,
        "text": text,
        "signed_at": to_beijing(signature.signed_at),
        "signature_image": data_uri(stored.mime, files.read(stored)) if stored else None,
        "verify_url": verify_url,
        "qr": qr_data_uri(verify_url),
    }


def pledge_pdf(signature: PledgeSignature) -> bytes:
    return render_pdf(TEMPLATE, **pledge_context(signature))
