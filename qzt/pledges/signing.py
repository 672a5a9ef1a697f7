"""Signing the pledge: step-up password, the evidence record, and its status."""

import hashlib
import json
import secrets

import sqlalchemy as sa

from qzt.core import audit, files
from qzt.extensions import db
from qzt.models import Application, PledgeSignature, User
from qzt.pledges import texts
from qzt.rules import uploads
from qzt.rules import uscc as uscc_rules


class SigningError(ValueError):
    """What the signer must fix, in Chinese."""


def snapshot_sha256(data: dict) -> str:
    """SHA-256 of the application's data in canonical JSON: what the signer signed."""
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def sign(
    application: Application,
    signer: User,
    *,
    typed_name: str,
    password: str,
    agreed: bool,
    drawing: bytes | None,
    ip: str,
    user_agent: str,
) -> PledgeSignature:
    """Record a signature of the current pledge version over the application as it stands now.

    `drawing` is the PNG drawn on the page (None without JavaScript); it is checked like any upload, at
    most uploads.SIGNATURE_MAX pixels (UploadRejected says why not), and kept with the signature."""
    problems = []
    if not typed_name.strip():
        problems.append("请输入签署人姓名")
    if not agreed:
        problems.append("请勾选“我已阅读并同意承诺书”")
    if not signer.check_password(password or ""):
        problems.append("登录密码不正确，请重新输入以确认是本人签署")
    basic = application.data.get("basic", {})
    if not basic.get("name") or not uscc_rules.is_valid(basic.get("uscc", "")):
        problems.append("请先在第1步填写机构名称和有效的统一社会信用代码")
    if problems:
        raise SigningError("；".join(problems))
    text = texts.current()
    image = (
        files.store_bytes(
            signer, "signature", drawing, "signature.png", images_only=True, max_size=uploads.SIGNATURE_MAX
        )
        if drawing
        else None
    )
    signature = PledgeSignature(
        code=secrets.token_urlsafe(16),
        application_id=application.id,
        signer_id=signer.id,
        signer_name=typed_name.strip()[:100],
        signature_file_id=image.id if image else None,
        institution_name=basic["name"][:200],
        uscc=uscc_rules.normalize(basic["uscc"]),
        pledge_version=text.version,
        text_sha256=text.sha256,
        snapshot_sha256=snapshot_sha256(application.data),
        ip=(ip or "")[:45],
        user_agent=(user_agent or "")[:500],
    )
    db.session.add(signature)
    db.session.flush()
    after = {
        "application": application.id,
        "pledge_version": text.version,
        "snapshot_sha256": signature.snapshot_sha256,
    }
    audit.record(signer, "pledge_signed", signature, after=after, ip=ip)
    return signature


def latest(application: Application) -> PledgeSignature | None:
    stmt = (
        sa.select(PledgeSignature)
        .where(PledgeSignature.application_id == application.id)
        .order_by(PledgeSignature.id.desc())
        .limit(1)
    )
    return db.session.scalar(stmt)


def is_superseded(signature: PledgeSignature) -> bool:
    """Superseded once the pledge has a newer version or the application was signed again."""
    if signature.pledge_version != texts.current().version:
        return True
    newer = sa.select(PledgeSignature.id).where(
        PledgeSignature.application_id == signature.application_id, PledgeSignature.id > signature.id
    )
    return db.session.scalar(newer.limit(1)) is not None


def status_label(signature: PledgeSignature) -> str:
    return "已失效（已被新的签署取代）" if is_superseded(signature) else "有效"


def get_by_code(code: str) -> PledgeSignature | None:
    return db.session.scalar(sa.select(PledgeSignature).where(PledgeSignature.code == code))
