"""The audit trail as tamper-evident evidence (security point 10): a hash chain that
`flask --app app qzt audit-verify` checks, appends that stay one chain under concurrency, no secrets in
it, no way to change or delete a row through the app, kept at least 180 days."""

import json
import re
import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from factories import PASSWORD, make_application, signature_png, tamper_audit
from shared_fixtures import in_app_thread, log_in

from qzt.core import audit, files
from qzt.extensions import db
from qzt.models import AppendOnlyError, AuditRecord, Role, User
from qzt.pledges import signing
from qzt.rules import audit as rules

# --- the rule: what a record's hash covers (no app) ---

FIELDS = {
    "id": 7,
    "at": datetime(2026, 11, 28, 1, 2, 3, 456789, tzinfo=UTC),
    "actor_id": 3,
    "ip": "10.0.0.8",
    "action": "approve",
    "object_type": "applications",
    "object_id": 12,
    "before": {"state": "awaiting_decision"},
    "after": {"state": "approved", "说明": ["批准", 1]},
    "note": "同意入驻",
}


def test_record_hash_is_sha256_of_the_canonical_form():
    digest = rules.record_hash(FIELDS, rules.GENESIS)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    text = rules.canonical(FIELDS, rules.GENESIS).decode("utf-8")
    assert json.loads(text) == {
        **FIELDS,
        "at": "2026-11-28T01:02:03.456789+00:00",
        "prev_hash": rules.GENESIS,
    }
    assert "同意入驻" in text and ", " not in text and ": " not in text  # UTF-8, compact
    assert list(json.loads(text)) == sorted(json.loads(text))  # keys sorted


def test_the_canonical_form_never_changes():
    # Every stored hash depends on it: changing qzt.rules.audit.canonical breaks every chain on record.
    expected = (
        '{"action":"approve","actor_id":3,"after":{"state":"approved","说明":["批准",1]},'
        '"at":"2026-11-28T01:02:03.456789+00:00","before":{"state":"awaiting_decision"},"id":7,'
        '"ip":"10.0.0.8","note":"同意入驻","object_id":12,"object_type":"applications",'
        f'"prev_hash":"{"0" * 64}"}}'
    )
    assert rules.canonical(FIELDS, rules.GENESIS) == expected.encode("utf-8")
    assert rules.record_hash(FIELDS, rules.GENESIS) == (
        "ea175c655eaf8ce3c81abf390247e468567a92d98e1781db48a98f6ccdadd1c5"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"id": 8},
        {"at": FIELDS["at"] + timedelta(microseconds=1)},
        {"actor_id": None},
        {"ip": "10.0.0.9"},
        {"action": "reject"},
        {"object_type": "institutions"},
        {"object_id": 13},
        {"before": None},
        {"after": {"state": "rejected"}},
        {"note": "同意入驻。"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_every_field_is_covered(change):
    assert rules.record_hash(FIELDS | change, rules.GENESIS) != rules.record_hash(FIELDS, rules.GENESIS)


def test_the_link_is_covered_and_the_zone_is_not():
    assert rules.record_hash(FIELDS, "f" * 64) != rules.record_hash(FIELDS, rules.GENESIS)
    beijing = FIELDS["at"].astimezone(timezone(timedelta(hours=8)))
    assert rules.record_hash(FIELDS | {"at": beijing}, "f" * 64) == rules.record_hash(FIELDS, "f" * 64)
    shuffled = dict(reversed(FIELDS.items())) | {"after": {"说明": ["批准", 1], "state": "approved"}}
    assert rules.record_hash(shuffled, "f" * 64) == rules.record_hash(FIELDS, "f" * 64)


def test_values_are_hashed_as_the_json_column_gives_them_back():
    assert rules.as_stored({"ids": (1, 2), 3: "x"}) == {"ids": [1, 2], "3": "x"}
    assert rules.as_stored(None) is None


@pytest.mark.parametrize(
    "value",
    [
        {"password": "x"},
        {"new_password": "x"},
        {"password_hash": "x"},
        {"code": "123456"},
        {"sms_code": "123456"},
        {"code_hash": "x"},
        {"sessionToken": "x"},
        {"session_token": "x"},
        {"secret": "x"},
        {"otp": "x"},
        {"nested": {"list": [{"token": "x"}]}},
        {"hash": "pbkdf2:sha256:1000$abc$def"},
        {"note": "scrypt:32768:8:1$abc$def"},
    ],
)
def test_secrets_are_found(value):
    assert rules.secrets_in(value)


def test_ordinary_audit_keys_are_not_secrets():
    ordinary = {
        "state": "approved",
        "phone": "13700000004",
        "uscc": "91440604MA5X0001Y1",
        "passed": True,
        "decided": 1,
        "sha256": "ab" * 32,
        "snapshot_sha256": "cd" * 32,
        "file_id": 3,
        "services": [["inspection", "家电安全检测", "", True]],
    }
    assert rules.secrets_in(ordinary) == []


def test_records_are_kept_at_least_180_days():
    today = date(2027, 7, 1)
    assert rules.RETENTION_DAYS == 180
    assert rules.retention_start(today) == date(2027, 1, 2)
    assert not rules.may_remove(date(2027, 1, 2), today)
    assert not rules.may_remove(today, today)
    assert rules.may_remove(date(2027, 1, 1), today)


# --- the chain in the database ---


def _append(count: int, actor: User, start: int = 0) -> None:
    """`count` records, some several to a flush, committed in three transactions."""
    for i in range(start, start + count):
        audit.record(
            actor, "test_action", actor, before={"i": i}, after={"i": i + 1}, note=f"第{i}条", ip="::1"
        )
        if i % 3 == 2:
            db.session.commit()
    db.session.commit()


def _verify(runner):
    result = runner.invoke(args=["qzt", "audit-verify"])
    return result.exit_code, result.output


def _fields(record: AuditRecord) -> dict:
    return {name: getattr(record, name) for name in rules.FIELDS}


def _rows() -> list[AuditRecord]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditRecord).order_by(AuditRecord.id)))


def test_audit_verify_passes_on_an_intact_chain(app, runner, make_user):
    assert _verify(runner) == (0, "审计日志完整：共0条记录，哈希链校验通过\n")
    user = make_user(Role.OPERATOR, phone="13700000004")
    _append(8, user)
    rows = _rows()
    assert [r.id for r in rows] == list(range(1, 9))
    assert rows[0].prev_hash == rules.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:], strict=False))
    assert rows[0].hash == rules.record_hash(
        {name: getattr(rows[0], name) for name in rules.FIELDS}, rules.GENESIS
    )
    assert _verify(runner) == (0, "审计日志完整：共8条记录，哈希链校验通过\n")


def test_audit_verify_walks_a_long_chain_in_batches(app, make_user):
    user = make_user(Role.OPERATOR, phone="13700000004")
    _append(25, user)
    assert audit.verify(batch=4) == audit.Verdict(25)
    tamper_audit("UPDATE audit_records SET ip = '1.1.1.1' WHERE id = 22")
    assert audit.verify(batch=4).broken_id == 22


def test_audit_verify_reports_the_first_changed_record(app, runner, make_user):
    user = make_user(Role.OPERATOR, phone="13700000004")
    _append(6, user)
    tamper_audit("UPDATE audit_records SET note = '改写' WHERE id IN (3, 5)")
    code, output = _verify(runner)
    assert code == 1
    assert "id 3 处断开：内容被改动" in output and "此前的2条记录校验通过" in output
    # A changed link is a changed record too: prev_hash is part of what the hash covers.
    tamper_audit("UPDATE audit_records SET note = '第2条' WHERE id = 3")
    tamper_audit("UPDATE audit_records SET note = '第4条', prev_hash = :h WHERE id = 5", h="e" * 64)
    assert "id 5 处断开：内容被改动" in _verify(runner)[1]


def test_audit_verify_reports_a_deleted_record(app, runner, make_user):
    user = make_user(Role.OPERATOR, phone="13700000004")
    _append(6, user)
    tamper_audit("DELETE FROM audit_records WHERE id = 4")
    code, output = _verify(runner)
    assert code == 1
    assert "id 5 处断开：记录缺失：与前一条记录（id 3）不衔接" in output


def test_audit_verify_reports_a_deleted_first_record(app, runner, make_user):
    user = make_user(Role.OPERATOR, phone="13700000004")
    _append(3, user)
    tamper_audit("DELETE FROM audit_records WHERE id = 1")
    code, output = _verify(runner)
    assert code == 1 and "id 2 处断开：记录缺失：第一条记录之前" in output


def test_audit_verify_reports_a_rewritten_record_whose_hash_was_recomputed(app, runner, make_user):
    user = make_user(Role.OPERATOR, phone="13700000004")
    _append(5, user)
    third = _rows()[2]
    forged = rules.record_hash(
        {name: getattr(third, name) for name in rules.FIELDS} | {"note": "伪造"}, third.prev_hash
    )
    tamper_audit("UPDATE audit_records SET note = '伪造', hash = :h WHERE id = 3", h=forged)
    code, output = _verify(runner)
    assert code == 1 and "id 4 处断开：链接断开：前一哈希与前一条记录（id 3）的哈希不符" in output


def test_concurrent_appends_keep_one_chain(app, make_user):
    """One transaction holds the chain (its record flushed, not committed) while another appends: the
    second must wait and link onto the first. Then three threads append at once."""
    user_id = make_user(Role.OPERATOR, phone="13700000004").id
    _append(2, db.session.get(User, user_id))
    errors: list[BaseException] = []
    flushed = threading.Event()

    def in_thread(work):
        return in_app_thread(app, lambda: work(db.session.get(User, user_id)), errors, flushed)

    def holder(user):
        audit.record(user, "held", user)
        db.session.flush()  # the chain's lock is taken here and held until the commit
        flushed.set()
        time.sleep(0.6)
        db.session.commit()

    def waiter(user):
        flushed.wait(10)
        audit.record(user, "waited", user)
        db.session.commit()

    threads = [in_thread(holder), in_thread(waiter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    held, waited = _rows()[-2:]
    assert (held.action, waited.action) == ("held", "waited")
    assert waited.prev_hash == held.hash

    def hammer(user):
        for i in range(15):
            audit.record(user, "concurrent", user, note=str(i))
            db.session.commit()

    threads = [in_thread(hammer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    rows = _rows()
    assert len(rows) == 2 + 2 + 45
    assert len({r.prev_hash for r in rows}) == len(rows)
    assert audit.verify() == audit.Verdict(len(rows))


def test_audit_records_hold_no_secrets(app, client, make_user):
    applicant = make_user(Role.INSTITUTION, phone="13600000009", name="机构经办人")
    # A programming error, refused before it reaches the trail.
    for secret in ({"password": PASSWORD}, {"code": "123456"}, {"nested": {"session_token": "x"}}):
        for where in ("before", "after"):
            with pytest.raises(ValueError, match="secret"):
                audit.record(None, "oops", applicant, **{where: secret})
    with pytest.raises(ValueError, match="password hash"):
        audit.record(None, "oops", applicant, note=applicant.password_hash)
    db.session.rollback()

    # What the platform records on its own: a wrong and a right login, a signature with its drawing.
    log_in(client, applicant.phone, "wrong-password-1")
    log_in(client, applicant.phone)
    application = make_application(applicant, drawing=signature_png())
    signature = signing.latest(application)
    rows = _rows()
    assert {"login_failed", "login", "upload", "pledge_signed"} <= {r.action for r in rows}
    for r in rows:
        text = json.dumps([r.before, r.after, r.note, r.ip], ensure_ascii=False)
        assert PASSWORD not in text and "wrong-password-1" not in text
        assert applicant.password_hash not in text and signature.code not in text


def test_audit_rows_cannot_be_updated_or_deleted_through_the_app(app, make_user):
    user = make_user(Role.OPERATOR, phone="13700000004")
    _append(2, user)
    record = _rows()[0]
    record.note = "改写"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(_rows()[0])
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    for sql in (
        "UPDATE audit_records SET note = 'x'",
        "DELETE FROM audit_records",
        "UPDATE audit_records SET hash = 'x'",
    ):
        with pytest.raises(sa.exc.DatabaseError):
            db.session.execute(sa.text(sql))
        db.session.rollback()
    assert len(_rows()) == 2 and audit.verify().intact


def test_no_code_deletes_audit_records():
    """Kept at least 180 days (Cybersecurity Law Art. 21): no command or service deletes a record at all
    (and the database's triggers would refuse it)."""
    qzt = Path(__file__).resolve().parent.parent / "qzt"
    deleting = re.compile(
        r"delete\(\s*AuditRecord|DELETE\s+FROM\s+audit_records|TRUNCATE\s+(TABLE\s+)?audit_records",
        re.IGNORECASE,
    )
    offenders = [
        str(path.relative_to(qzt))
        for path in qzt.rglob("*.py")
        if "migrations" not in path.parts and deleting.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_uploads_and_downloads_are_audited(app, login_as):
    owner_client = login_as(Role.INSTITUTION)
    owner = db.session.scalar(sa.select(User).where(User.role == Role.INSTITUTION))
    stored = files.store_bytes(owner, "signature", signature_png(), "签名.png", images_only=True)
    db.session.commit()
    assert owner_client.get(f"/files/{stored.id}").status_code == 200
    rows = [r for r in _rows() if r.object_type == "stored_files"]
    assert [(r.action, r.actor_id, r.object_id) for r in rows] == [
        ("upload", owner.id, stored.id),
        ("download", owner.id, stored.id),
    ]
    assert rows[0].after == {
        "purpose": "signature",
        "filename": "签名.png",
        "size": stored.size,
        "sha256": stored.sha256,
    }
    assert rows[1].note == "signature"


def test_pledge_pdf_downloads_and_signing_are_audited(app, login_as):
    owner_client = login_as(Role.INSTITUTION, "13600000009")
    owner = db.session.scalar(sa.select(User).where(User.phone == "13600000009"))
    signature = signing.latest(make_application(owner))
    assert owner_client.get(f"/pledges/{signature.code}.pdf").status_code == 200
    rows = [r for r in _rows() if r.object_type == "pledge_signatures"]
    assert [(r.action, r.actor_id, r.object_id) for r in rows] == [
        ("pledge_signed", owner.id, signature.id),
        ("download", owner.id, signature.id),
    ]
    assert rows[0].after["snapshot_sha256"] == signature.snapshot_sha256
    assert audit.verify().intact
