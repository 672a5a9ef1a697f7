"""Accepting uploads and handing them back to those allowed to see them (/files/<id>)."""

import hashlib
import io

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, current_app, send_file
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from qzt.core import audit
from qzt.core.storage import Storage, open_storage
from qzt.extensions import db
from qzt.models import StoredFile, User
from qzt.rules import uploads

bp = Blueprint("files", __name__)


def upload_root(app: Flask | None = None) -> str:
    """The folder the uploads are kept in when QZT_STORAGE_URL is unset: UPLOAD_ROOT, else
    instance/uploads."""
    app = app or current_app
    return app.config.get("UPLOAD_ROOT") or f"{app.instance_path}/uploads"


@bp.record_once
def _open_storage(state) -> None:
    """The storage is chosen (and QZT_STORAGE_URL checked) when the app is made: a wrong setting stops
    the start, not the first upload."""
    state.app.extensions["qzt_storage"] = open_storage(state.app.config, upload_root(state.app))


def storage() -> Storage:
    """Where this app keeps uploaded bytes (qzt.core.storage)."""
    return current_app.extensions["qzt_storage"]


def store_bytes(
    owner: User,
    purpose: str,
    data: bytes,
    filename: str,
    images_only: bool = False,
    max_size: tuple[int, int] = uploads.IMAGE_MAX,
) -> StoredFile:
    """Check the bytes by content (uploads.UploadRejected says why not) and keep them for good. Images
    may be at most `max_size` (width, height) pixels."""
    mime = uploads.check(data, filename, images_only=images_only, max_size=max_size)
    return audit.uploaded(owner, store_generated(owner, purpose, data, filename, mime))


def store_generated(owner: User, purpose: str, data: bytes, filename: str, mime: str) -> StoredFile:
    """Keep bytes of a known type for good: a checked upload, or a file the platform made itself (a batch
    of PDFs, beyond the upload size limit). The name is kept as uploads.display_name() makes it."""
    key = storage().put(data, uploads.ALLOWED[mime])
    stored = StoredFile(
        owner_id=owner.id,
        purpose=purpose,
        key=key,
        filename=uploads.display_name(filename, mime),
        mime=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    db.session.add(stored)
    db.session.flush()
    return stored


def accept(
    owner: User, purpose: str, upload: FileStorage | None, images_only: bool = False
) -> StoredFile | None:
    """The stored file for a form upload, None when nothing was chosen."""
    if upload is None or not upload.filename:
        return None
    data = upload.stream.read(uploads.MAX_BYTES + 1)
    return store_bytes(owner, purpose, data, upload.filename, images_only)


def can_see(user: User, stored: StoredFile) -> bool:
    return user.is_authenticated and (user.is_staff or stored.owner_id == user.id)


def get_file_or_404(file_id: int, user: User) -> StoredFile:
    """The file if `user` owns it or is staff; 404 otherwise (never reveal another's files exist)."""
    stored = db.session.get(StoredFile, file_id)
    if stored is None or not can_see(user, stored):
        abort(404)
    return stored


def read(stored: StoredFile) -> bytes:
    return storage().get(stored.key)


def send(stored: StoredFile) -> Response:
    """The bytes as a download: never rendered inline, never sniffed into another type. The name is
    cleaned again (rows stored before names were cleaned); Werkzeug writes Content-Disposition, with an
    ASCII fallback and the UTF-8 name as filename*."""
    audit.downloaded(stored, stored.purpose)
    response = send_file(
        io.BytesIO(read(stored)),
        mimetype=stored.mime,
        as_attachment=True,
        download_name=uploads.display_name(stored.filename, stored.mime),
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# [查看]: what a browser may show in place instead of saving. Bytes of any other type, or whose content no
# longer checks as their type, are only ever handed out as an attachment.
VIEWABLE = {"application/pdf", "image/jpeg", "image/png"}
# An image is shown in a sandboxed document that may load nothing but itself. Chrome refuses to start its
# PDF viewer in a sandboxed document (any `sandbox`, whatever it allows), so a PDF gets no sandbox; it is
# shown only after its content was checked again as a PDF without scripts or actions (uploads.check), with
# nosniff, and the viewer's own page may apply its inline styles and nothing else.
IMAGE_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"
PDF_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def viewable(stored: StoredFile, data: bytes) -> bool:
    """Whether the bytes are, by their content, the PDF or image the row says they are."""
    if stored.mime not in VIEWABLE:
        return False
    try:
        return uploads.check(data, stored.filename) == stored.mime
    except uploads.UploadRejected:
        return False


def send_inline(stored: StoredFile) -> Response:
    """The file shown in the browser ([查看]) when it checks as a PDF, PNG or JPEG; otherwise the same
    attachment `send` hands out."""
    data = read(stored)
    if not viewable(stored, data):
        return send(stored)
    audit.downloaded(stored, stored.purpose)
    response = send_file(
        io.BytesIO(data),
        mimetype=stored.mime,
        as_attachment=False,
        download_name=uploads.display_name(stored.filename, stored.mime),
    )
    response.headers["Content-Security-Policy"] = PDF_CSP if stored.mime == "application/pdf" else IMAGE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/files/<id:file_id>")
@login_required
def download(file_id: int):
    """An uploaded file, for its owner and staff only, always as an attachment."""
    return send(get_file_or_404(file_id, current_user))


def file_names(data: dict) -> dict[int, str]:
    """Display names of the files an application's data refers to, for links."""
    evidence = data.get("evidence", {})
    ids = [
        data.get("licence_file_id"),
        evidence.get("lab_cert_file_id"),
        *evidence.get("case_file_ids", []),
        *(q.get("file_id") for q in data.get("qualifications", [])),
    ]
    ids = [i for i in ids if i]
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(StoredFile.id, StoredFile.filename, StoredFile.mime).where(StoredFile.id.in_(ids))
    )
    return {file_id: uploads.display_name(name, mime) for file_id, name, mime in rows}
