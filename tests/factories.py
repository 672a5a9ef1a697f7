"""Plain factories for the tests and the benchmarks (no pytest here: bench/ imports this module too).

Everything runs inside an app context on the app's database, and commits what it makes.
"""

import io

import sqlalchemy as sa
from PIL import Image, ImageDraw

from qzt.extensions import db
from qzt.models import Application, ApplicationState, PledgeSignature, Role, User
from qzt.onboarding import draft
from qzt.pledges import signing
from qzt.rules.uscc import with_check_digit

PASSWORD = "correct-horse-9"  # every test user's password

# Step 1 of the wizard, filled in validly: an inspection body in Shunde.
BASIC = {
    "name": "佛山市顺德区家电检测技术有限公司",
    "uscc": with_check_digit("91440604MA5X0001Y"),
    "legal_representative": "张三",
    "org_type": "professional",
    "district": "shunde",
    "address": "大良街道新城区1号",
    "introduction": "专业从事家用电器安全、能效检验检测，具备CMA和CNAS资质，服务顺德家电产业二十年。",
    "phone": "0757-22223333",
}


def make_user(role: Role | str = Role.ENTERPRISE, phone: str = "13800138000", name: str = "测试用户") -> User:
    user = User(phone=phone, name=name, role=Role(role))
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def signature_png() -> bytes:
    """A signature as drawn on the signing page's canvas: a black scribble on a transparent PNG."""
    image = Image.new("RGBA", (240, 80), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 60), (60, 15), (100, 65), (150, 20), (230, 50)], fill="black", width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def application_data(**sections) -> dict:
    """An application's data as the wizard keeps it: empty but for a valid step 1, and `sections`."""
    return {**draft.empty(), "basic": dict(BASIC), **sections}


# The evidence a test signature carries unless the test says otherwise (see sign()).
EVIDENCE = {"typed_name": "张三", "drawing": None, "ip": "127.0.0.1", "user_agent": "pytest"}


def sign(application: Application, signer: User | None = None, **evidence) -> PledgeSignature:
    """Sign the pledge over the application as it stands, through the real signing service, as `signer`
    (the applicant if None). `evidence`: typed_name, drawing (PNG bytes or None), ip, user_agent."""
    signer = signer or application.applicant
    signature = signing.sign(application, signer, password=PASSWORD, agreed=True, **(EVIDENCE | evidence))
    db.session.commit()
    return signature


def make_application(
    user: User | None = None,
    *,
    state: ApplicationState = ApplicationState.SUBMITTED,
    signed: bool = True,
    data: dict | None = None,
    **evidence,
) -> Application:
    """An application by `user` (a new institution account if None) in `state`; its data is `data`, or
    application_data(). With `signed`, the pledge is signed over it (`evidence`: see sign()); the
    signature is signing.latest(application)."""
    if user is None:
        user = make_user(Role.INSTITUTION, phone="13600000009", name="机构经办人")
    application = Application(
        applicant_id=user.id, data=application_data() if data is None else data, state=state
    )
    application.sync_summary()
    db.session.add(application)
    db.session.commit()
    if signed:
        sign(application, user, **evidence)
    return application


def tamper_audit(sql: str, **params) -> None:
    """What someone with the database's own rights could do: switch the append-only triggers off, change
    audit rows behind the app's back, and switch them on again."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only")
        connection.execute(sa.text(sql), params)
        connection.exec_driver_sql("ALTER TABLE audit_records ENABLE TRIGGER audit_records_append_only")
    else:
        triggers = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_records'"
        ).all()
        assert len(triggers) == 2
        for name, _sql in triggers:
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
        connection.execute(sa.text(sql), params)
        for _name, trigger_sql in triggers:
            connection.exec_driver_sql(trigger_sql)
    db.session.commit()
