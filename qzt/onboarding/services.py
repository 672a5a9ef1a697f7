"""Saving wizard steps, adding and removing rows, and submitting the application."""

import copy
import re
from datetime import date

from qzt.core import audit, clock, files
from qzt.extensions import db
from qzt.models import Application, ApplicationRevision, ApplicationState, User
from qzt.onboarding import draft
from qzt.pledges import signing, texts
from qzt.rules import uscc
from qzt.rules.uploads import UploadRejected

ROWS = {  # row prefix -> (data key, text fields)
    "q": ("qualifications", draft.QUALIFICATION_FIELDS),
    "s": ("services", draft.SERVICE_FIELDS),
    "a": ("agents", draft.AGENT_FIELDS),
}


PLEDGE, REVIEW = draft.PLEDGE_STEP.number, draft.SUMMARY_STEP.number
NOT_REVIEWED = f"请先在第{REVIEW}步核对申请资料，确认无误后再签署承诺书"
CHANGED_SINCE_REVIEW = (
    "您核对申请资料后，资料又有修改（可能是在其他窗口或返回前面的步骤改过）。"
    f"请在第{REVIEW}步重新核对，确认无误后再签署提交"
)


class SubmitRefused(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems))
        self.problems = problems


def _set_data(application: Application, data: dict) -> None:
    application.data = data
    application.sync_summary()


def application_for(user: User) -> Application:
    """The user's one application, created on first visit."""
    application = Application.of(user)
    if application is None:
        application = Application(applicant_id=user.id, data=draft.empty())
        db.session.add(application)
        db.session.flush()
    return application


def _store(user: User, purpose: str, upload, errors: dict, field: str, images_only=False) -> int | None:
    try:
        stored = files.accept(user, purpose, upload, images_only=images_only)
    except UploadRejected as rejected:
        errors[field] = str(rejected)
        return None
    return stored.id if stored else None


def _qualifications(sent: list[dict], old: list[dict], user: User, errors: dict) -> list[dict]:
    """The certificates as sent; a row keeps its stored file unless a new one was chosen."""
    rows = []
    for i, row in enumerate(sent):
        previous = old[i].get("file_id") if i < len(old) else None
        stored = _store(user, "qualification", row.get("file"), errors, f"q-{i}-file")
        rows.append({**{f: row[f] for f in draft.QUALIFICATION_FIELDS}, "file_id": stored or previous})
    return rows


def _is_blank(row: dict) -> bool:
    return not any(v for k, v in row.items() if k != "featured")


def save_step(application: Application, slug: str, sent: dict, user: User) -> dict:
    """Keep what the user sent for one step (StepForm.sent()), valid or not; returns the errors of
    rejected uploads, keyed by input name."""
    data = copy.deepcopy(application.data)
    errors: dict[str, str] = {}
    if slug == "licence":
        stored = _store(user, "licence", sent["licence"], errors, "licence")
        data["licence_file_id"] = stored or data.get("licence_file_id")
        data["qualifications"] = _qualifications(
            sent["qualifications"], data.get("qualifications", []), user, errors
        )
    elif slug == "evidence":
        data["evidence"] = _evidence(sent, data.get("evidence", {}), user, errors)
    elif slug == "basic":
        data.update(sent)
        code = data["basic"].get("uscc") or ""
        if uscc.is_valid(code):  # 91440604ma52bj4hbg is kept as 91440604MA52BJ4HBG; a wrong one as typed
            data["basic"]["uscc"] = uscc.normalize(code)
    elif slug in ("services", "agents", "declarations"):
        data.update(sent)
    _set_data(application, data)
    return errors


def _evidence(sent: dict, old: dict, user: User, errors: dict) -> dict:
    evidence = {**draft.empty()["evidence"], **old, **sent["evidence"]}
    case_ids = list(evidence.get("case_file_ids", []))
    for upload in sent["case_images"]:
        if file_id := _store(user, "case_image", upload, errors, "case_images", images_only=True):
            case_ids.append(file_id)
    evidence["case_file_ids"] = case_ids
    stored = _store(user, "lab_certificate", sent["lab_cert_file"], errors, "lab_cert_file")
    evidence["lab_cert_file_id"] = stored or evidence.get("lab_cert_file_id")
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
        key, fields = ROWS[prefix]
        rows = data.setdefault(key, [])
        if verb == "add" and len(rows) < draft.MAX_ROWS[prefix]:
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
    for key, _fields in ROWS.values():
        data[key] = [row for row in data.get(key, []) if not _is_blank(row)]
    _set_data(application, data)


def digest(application: Application) -> str:
    """What the summary step shows, as the SHA-256 a signature binds (signing.snapshot_sha256)."""
    return signing.snapshot_sha256(application.data)


def review_problem(application: Application, recorded: str | None, shown: str | None = None) -> str | None:
    """Signing and submitting bind exactly what the applicant reviewed on the summary step: `recorded`
    is the digest the summary recorded on [确认无误，下一步], `shown` the one the pledge page was rendered
    with (None when only opening it). Both must be the data's digest now."""
    if not recorded:
        return NOT_REVIEWED
    current = digest(application)
    if recorded != current or (shown is not None and shown != current):
        return CHANGED_SINCE_REVIEW
    return None


def pledge_problem(application: Application) -> str | None:
    """The pledge must be signed, in its current version, over the data as it stands."""
    latest = signing.latest(application)
    if latest is None:
        return f"请在第{PLEDGE}步签署承诺书"
    if latest.pledge_version != texts.current().version:
        return f"承诺书已更新，请在第{PLEDGE}步重新签署"
    if latest.snapshot_sha256 != digest(application):
        return f"签署承诺书后资料有修改，请在第{REVIEW}步重新核对后，在第{PLEDGE}步重新签署承诺书"
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


def incomplete(application: Application, today: date) -> list[tuple[int, str]]:
    """What stops the applicant from going on from the summary to the pledge: (step number, message)."""
    return [(step.number, message) for step, message in draft.missing(application.data, today)]


def problems(application: Application, today: date) -> list[tuple[int, str]]:
    found = incomplete(application, today)
    if problem := pledge_problem(application):
        found.append((PLEDGE, problem))
    return found


def submit(application: Application, today: date, ip: str = "") -> ApplicationRevision:
    """Submit (or resubmit after more information was asked for) a complete, signed application; the
    audit log records each submission with the version it froze."""
    if not application.is_editable:
        raise SubmitRefused(["申请已提交，当前状态不能再次提交"])
    if found := problems(application, today):
        raise SubmitRefused([message for _step, message in found])
    before = application.state.value
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
    note = "首次提交" if revision.number == 1 else f"补充材料后重新提交（第{revision.number}版）"
    audit.record(
        application.applicant,
        "submit",
        application,
        before={"state": before},
        after={"state": "submitted", "revision": revision.number, "sha256": revision.snapshot_sha256},
        note=note,
        ip=ip,
    )
    return revision
