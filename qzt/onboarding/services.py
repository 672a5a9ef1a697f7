"""Saving wizard steps, adding and removing rows, and submitting the application."""

import copy
import re
from datetime import date

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from qzt.core import clock, files
from qzt.extensions import db
from qzt.models import Application, ApplicationRevision, ApplicationState, User
from qzt.onboarding import draft
from qzt.pledges import signing, texts
from qzt.rules.uploads import UploadRejected

ROWS = {  # row prefix -> (data key, text fields, maximum rows)
    "q": ("qualifications", draft.QUALIFICATION_FIELDS, 30),
    "s": ("services", draft.SERVICE_FIELDS, 30),
    "a": ("agents", draft.AGENT_FIELDS, 2),
}
MAX_TEXT = 5000


class SubmitRefused(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems))
        self.problems = problems


def _set_data(application: Application, data: dict) -> None:
    application.data = data
    application.sync_summary()


def application_for(user: User) -> Application:
    """The user's one application, created on first visit."""
    application = db.session.scalar(sa.select(Application).where(Application.applicant_id == user.id))
    if application is None:
        application = Application(applicant_id=user.id, data=draft.empty())
        db.session.add(application)
        db.session.flush()
    return application


def _text(form: MultiDict, name: str) -> str:
    return (form.get(name) or "").strip()[:MAX_TEXT]


def _store(user: User, purpose: str, upload, errors: dict, field: str, images_only=False) -> int | None:
    try:
        stored = files.accept(user, purpose, upload, images_only=images_only)
    except UploadRejected as rejected:
        errors[field] = str(rejected)
        return None
    return stored.id if stored else None


def _rows(
    form: MultiDict, uploads: MultiDict, prefix: str, old: list[dict], user: User, errors: dict
) -> list[dict]:
    key, fields, limit = ROWS[prefix]
    count = min(
        int(form.get(f"{prefix}-count") or 0) if (form.get(f"{prefix}-count") or "").isdigit() else 0, limit
    )
    rows = []
    for i in range(count):
        row = {f: _text(form, f"{prefix}-{i}-{f}") for f in fields}
        if prefix == "s":
            row["featured"] = bool(form.get(f"s-{i}-featured"))
        if prefix == "q":
            previous = old[i].get("file_id") if i < len(old) else None
            row["file_id"] = (
                _store(user, "qualification", uploads.get(f"q-{i}-file"), errors, f"q-{i}-file") or previous
            )
        rows.append(row)
    return rows


def _is_blank(row: dict) -> bool:
    return not any(v for k, v in row.items() if k != "featured")


def save_step(application: Application, slug: str, form: MultiDict, uploads: MultiDict, user: User) -> dict:
    """Keep what the user sent for one step, valid or not; returns errors of rejected uploads."""
    data = copy.deepcopy(application.data)
    errors: dict[str, str] = {}
    if slug == "basic":
        data["basic"] = {f: _text(form, f) for f in draft.BASIC_FIELDS}
    elif slug == "licence":
        data["licence_file_id"] = _store(
            user, "licence", uploads.get("licence"), errors, "licence"
        ) or data.get("licence_file_id")
        data["qualifications"] = _rows(form, uploads, "q", data.get("qualifications", []), user, errors)
    elif slug == "services":
        data["services"] = _rows(form, uploads, "s", data.get("services", []), user, errors)
    elif slug == "agents":
        data["agents"] = _rows(form, uploads, "a", data.get("agents", []), user, errors)
    elif slug == "evidence":
        data["evidence"] = _evidence(form, uploads, data.get("evidence", {}), user, errors)
    elif slug == "declarations":
        data["declarations"] = {
            key: bool(form.get(key)) for key in data.get("declarations", {}) or draft.empty()["declarations"]
        }
    _set_data(application, data)
    return errors


def _evidence(form: MultiDict, uploads: MultiDict, old: dict, user: User, errors: dict) -> dict:
    evidence = {**draft.empty()["evidence"], **old}
    for name in ("client_list", "lab_cert_number", "lab_cert_valid_until", "equipment_list"):
        evidence[name] = _text(form, name)
    case_ids = list(evidence.get("case_file_ids", []))
    for upload in uploads.getlist("case_images"):
        if file_id := _store(user, "case_image", upload, errors, "case_images", images_only=True):
            case_ids.append(file_id)
    evidence["case_file_ids"] = case_ids
    evidence["lab_cert_file_id"] = _store(
        user, "lab_certificate", uploads.get("lab_cert_file"), errors, "lab_cert_file"
    ) or evidence.get("lab_cert_file_id")
    return evidence


_ACTION = re.compile(r"^(add|remove)-([qsa]|case)(?:-(\d+))?$")


def apply_row_action(application: Application, action: str) -> bool:
    """[添加资质证书] and friends, and removing a row; True when the action was one of these."""
    match = _ACTION.match(action or "")
    if not match:
        return False
    verb, prefix, index = match.group(1), match.group(2), match.group(3)
    data = copy.deepcopy(application.data)
    if prefix == "case":
        if verb == "remove" and index is not None:
            data["evidence"]["case_file_ids"] = [
                i for i in data["evidence"]["case_file_ids"] if i != int(index)
            ]
    else:
        key, fields, limit = ROWS[prefix]
        rows = data.setdefault(key, [])
        if verb == "add" and len(rows) < limit:
            rows.append(
                {
                    **dict.fromkeys(fields, ""),
                    **({"featured": False} if prefix == "s" else {}),
                    **({"file_id": None} if prefix == "q" else {}),
                }
            )
        elif verb == "remove" and index is not None and int(index) < len(rows):
            rows.pop(int(index))
    _set_data(application, data)
    return True


def drop_blank_rows(application: Application) -> None:
    data = copy.deepcopy(application.data)
    for key, _fields, _limit in ROWS.values():
        data[key] = [row for row in data.get(key, []) if not _is_blank(row)]
    _set_data(application, data)


def pledge_problem(application: Application) -> str | None:
    """The pledge must be signed, in its current version, over the data as it stands."""
    latest = signing.latest(application)
    if latest is None:
        return "请在第7步签署承诺书"
    if latest.pledge_version != texts.current().version:
        return "承诺书已更新，请在第7步重新签署"
    if latest.snapshot_sha256 != signing.snapshot_sha256(application.data):
        return "签署承诺书后资料有修改，请在第7步重新签署承诺书"
    return None


def needs_new_signature(application: Application) -> bool:
    """A listed institution signed an older pledge version: it is asked to sign the current one."""
    latest = signing.latest(application)
    return (
        application.state == ApplicationState.APPROVED
        and latest is not None
        and latest.pledge_version != texts.current().version
    )


def may_sign(application: Application) -> bool:
    return application.is_editable or needs_new_signature(application)


def problems(application: Application, today: date) -> list[tuple[int, str]]:
    found = [(step.number, message) for step, message in draft.missing(application.data, today)]
    if problem := pledge_problem(application):
        found.append((7, problem))
    return found


def submit(application: Application, today: date) -> ApplicationRevision:
    """Submit (or resubmit after more information was asked for) a complete, signed application."""
    if not application.is_editable:
        raise SubmitRefused(["申请已提交，当前状态不能再次提交"])
    if found := problems(application, today):
        raise SubmitRefused([message for _step, message in found])
    revision = ApplicationRevision(
        application=application,
        number=len(application.revisions) + 1,
        data=copy.deepcopy(application.data),
        snapshot_sha256=signing.snapshot_sha256(application.data),
    )
    db.session.add(revision)
    application.state = ApplicationState.SUBMITTED
    application.submitted_at = clock.now()
    db.session.flush()
    return revision
