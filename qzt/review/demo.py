"""Demo applications for `qzt demo`: one or more in every state of the review (Art. 10–12), made through
the same services as the real flow (uploads, the pledge, submission, [领取] and the decisions), each step
at its own moment of the last weeks, so the staff queue and its tabs show real work at once.

The onboarding and withdrawal services are handed in by the caller (qzt.cli composes the areas)."""

import copy
import io
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from PIL import Image, ImageDraw

from qzt.core import clock, files
from qzt.core.clock import SETTING as CLOCK_SETTING
from qzt.documents import render_pdf
from qzt.extensions import db
from qzt.models import Application, ApplicationState, Notification, Role, User
from qzt.models.institution import InstitutionRecord
from qzt.pledges import signing
from qzt.review import services
from qzt.rules import eligibility
from qzt.rules.calendar import to_beijing

SEED = 20261129
# Applicants' accounts: 13900001xx, beside the demo accounts' 1390000000x.
PHONE_BASE = 13900001_00
USER_AGENT = "Mozilla/5.0 (演示数据)"
HOURS = "工作日 8:30-17:30"
MISSING = (
    "请补充检验检测机构资质认定证书附表（能力范围），并说明家电能效检测项目的具体依据标准。",
    "营业执照扫描件不清晰，请重新上传清晰的彩色扫描件；客服人员请补充服务时间。",
)


@dataclass(frozen=True)
class Flow:
    """The applicant's side of the real flow: submitting (onboarding) and withdrawing (withdrawals)."""

    submit: Callable[[Application, date], object]
    withdraw: Callable[[Application, User, date], None]


@dataclass(frozen=True)
class Documents:
    """The demo files: a scan of a licence, of a certificate, a case photo and a drawn signature."""

    licence: bytes
    certificate: bytes
    photo: bytes
    signature: bytes


def documents() -> Documents:
    with current_app.test_request_context():  # templates are rendered for a request; a command has none
        licence = render_pdf("pdf/demo_scan.html", title="营业执照")
        certificate = render_pdf("pdf/demo_scan.html", title="资质证书")
    return Documents(licence=licence, certificate=certificate, photo=_photo(), signature=_signature())


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _photo() -> bytes:
    """A case photo: a blue-grey bench with two instruments on it."""
    image = Image.new("RGB", (640, 400), (226, 234, 243))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 290, 640, 400), fill=(150, 160, 175))
    draw.rectangle((90, 150, 260, 290), fill=(40, 90, 160))
    draw.rectangle((330, 190, 540, 290), fill=(230, 160, 40))
    draw.ellipse((120, 180, 170, 230), fill=(240, 240, 240))
    return _png(image)


def _signature() -> bytes:
    """A handwritten-looking stroke on the 600×200 signing canvas."""
    image = Image.new("RGB", (600, 200), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    points = [(60 + x * 8, 110 + int(35 * ((x % 9) - 4) / 4) * (-1) ** (x // 9)) for x in range(60)]
    draw.line(points, fill=(20, 20, 60), width=5, joint="curve")
    return _png(image)


@contextmanager
def _at(moment: datetime) -> Iterator[None]:
    """Run the platform clock at `moment` (as QZT_CLOCK would) for one step of the story; flushed inside,
    so every default time (submission, audit record, signature, notice) is that moment."""
    config = current_app.config
    kept = config.get(CLOCK_SETTING)
    config[CLOCK_SETTING] = moment.isoformat()
    try:
        yield
        db.session.flush()
    finally:
        if kept is None:
            config.pop(CLOCK_SETTING, None)
        else:
            config[CLOCK_SETTING] = kept


def _data(record: InstitutionRecord, applicant: User, docs: Documents, rng: random.Random) -> dict:
    """The wizard's data for `record`, with its files uploaded by the applicant as the wizard would."""

    def upload(purpose: str, data: bytes, name: str, images_only: bool = False) -> int:
        return files.store_bytes(applicant, purpose, data, name, images_only=images_only).id

    services_ = [
        {"category": s.category, "title": s.title, "content": s.content, "featured": s.featured}
        for s in record.services
    ]
    qualifications = [
        {
            "name": q.name,
            "number": q.number or "",
            "issuer": q.issuer or "",
            "valid_until": q.valid_until.isoformat() if q.valid_until else "",
            "file_id": upload("qualification", docs.certificate, f"{q.name}.pdf"),
        }
        for q in record.qualifications or []
    ]
    evidence = eligibility.empty_evidence()
    if eligibility.needs_case_evidence(services_):
        evidence["client_list"] = (
            "佛山市某家电有限公司（2025年）\n佛山市某陶瓷有限公司（2025年）\n佛山市某机械有限公司（2026年）"
        )
        evidence["case_file_ids"] = [upload("case", docs.photo, "案例现场.png", images_only=True)]
    if eligibility.needs_equipment_evidence(services_):
        evidence["lab_cert_number"] = f"CNAS L{rng.randint(10000, 19999)}"
        evidence["lab_cert_valid_until"] = (clock.today() + timedelta(days=700)).isoformat()
        evidence["lab_cert_file_id"] = upload("lab_cert", docs.certificate, "实验室认可证书.pdf")
        evidence["equipment_list"] = "电感耦合等离子体质谱仪 1台\n恒温恒湿试验箱 2台\n万能材料试验机 1台"
    return {
        "basic": {
            "name": record.name,
            "uscc": record.uscc,
            "legal_representative": record.legal_representative or "",
            "org_type": record.org_type or "",
            "district": record.district,
            "address": record.address or "",
            "introduction": record.introduction,
            "phone": record.phone or "",
        },
        "licence_file_id": upload("licence", docs.licence, "营业执照.pdf"),
        "qualifications": qualifications,
        "services": services_,
        "agents": [
            {"name": a.name, "phone": a.phone, "hours": a.hours or HOURS} for a in record.agents or []
        ],
        "evidence": evidence,
        "declarations": dict.fromkeys(eligibility.DECLARATIONS, True),
    }


def suitable(record: InstitutionRecord, today: date) -> bool:
    """A Foshan institution whose certificates stay valid through the demo's weeks: an applicant that
    the wizard lets submit."""
    valid_from = today + timedelta(days=90)
    return record.district != "outside" and all(
        q.valid_until and q.valid_until > valid_from for q in record.qualifications or []
    )


class _Story:
    """One application's life, step by step, each step `days_ago` before now."""

    def __init__(self, now: datetime, flow: Flow, docs: Documents, password: str, staff: dict[Role, User]):
        self.now, self.flow, self.docs, self.password, self.staff = now, flow, docs, password, staff

    def moment(self, days_ago: int) -> datetime:
        """`days_ago` days before now, at a time of the working day (Beijing) that varies with the day."""
        day = to_beijing(self.now - timedelta(days=days_ago))
        return day.replace(hour=9 + days_ago * 3 % 8, minute=days_ago * 17 % 60, second=0, microsecond=0)

    def apply(self, n: int, record: InstitutionRecord, days_ago: int, password_hash: str) -> Application:
        """The applicant registers, fills the wizard, signs and submits."""
        with _at(self.moment(days_ago + 1)):
            applicant = User(
                role=Role.INSTITUTION,
                phone=str(PHONE_BASE + n),
                name=record.legal_representative or record.name,
                password_hash=password_hash,
            )
            db.session.add(applicant)
            db.session.flush()
            application = Application(applicant_id=applicant.id, data={})
            db.session.add(application)
            db.session.flush()
            application.data = _data(record, applicant, self.docs, random.Random(SEED + n))
            application.sync_summary()
            application.step = 8
        self.sign_and_submit(application, days_ago)
        return application

    def sign_and_submit(self, application: Application, days_ago: int) -> None:
        applicant = application.applicant
        with _at(self.moment(days_ago)):
            signing.sign(
                application,
                applicant,
                typed_name=application.data["basic"]["legal_representative"] or applicant.name,
                password=self.password,
                agreed=True,
                drawing=self.docs.signature,
                ip="127.0.0.1",
                user_agent=USER_AGENT,
            )
            self.flow.submit(application, clock.today())

    def claim(self, application: Application, days_ago: int) -> None:
        with _at(self.moment(days_ago)):
            services.claim(application, self.staff[Role.OPERATOR], application.version, ip="127.0.0.1")

    def act(self, application: Application, action: str, days_ago: int, by: Role = Role.OPERATOR, **given):
        with _at(self.moment(days_ago)):
            services.act(
                application,
                action,
                self.staff[by],
                application.version,
                services.ActionInput(**given),
                clock.today(),
                ip="127.0.0.1",
            )

    def supply(self, application: Application, days_ago: int) -> None:
        """The applicant answers a request for more information: a changed field, signed and submitted."""
        with _at(self.moment(days_ago)):
            data = copy.deepcopy(application.data)
            data["agents"] = [{**a, "hours": "工作日 8:30-17:30，周六 9:00-12:00"} for a in data["agents"]]
            application.data = data
            application.sync_summary()
        self.sign_and_submit(application, days_ago)

    def withdraw(self, application: Application, days_ago: int) -> None:
        with _at(self.moment(days_ago)):
            self.flow.withdraw(application, application.applicant, clock.today())


def create_applications(
    records: list[InstitutionRecord],
    approved_record: InstitutionRecord,
    now: datetime,
    flow: Flow,
    password: str,
    password_hash: str,
    operator: User,
    authority: User,
) -> dict[ApplicationState, int]:
    """Applications of `records` (at least 8) in every state of the review, and an approved one of
    `approved_record` (a listed institution's, or one to be listed); how many in each state.
    The applicants' accounts share the demo password (`password_hash` is its hash)."""
    records = list(records)
    story = _Story(now, flow, documents(), password, {Role.OPERATOR: operator, Role.AUTHORITY: authority})
    made: list[Application] = []

    def apply(days_ago: int, record: InstitutionRecord | None = None) -> Application:
        record = record or records.pop(0)
        made.append(story.apply(len(made), record, days_ago, password_hash))
        return made[-1]

    apply(1)  # 待初审, unclaimed
    apply(9)
    resubmitted = apply(20)  # 待初审 again, claimed: more information was asked for and given
    story.claim(resubmitted, 19)
    story.act(resubmitted, "request_info", 18, message=MISSING[1], deadline_days=10)
    story.supply(resubmitted, 4)

    waiting = apply(8)  # 待补充材料, its deadline running
    story.claim(waiting, 7)
    story.act(waiting, "request_info", 3, message=MISSING[0], deadline_days=10)

    visit = apply(15)  # 实地调查, the visit ahead
    story.claim(visit, 14)
    visit_on = to_beijing(now).date() + timedelta(days=3)
    story.act(visit, "schedule_visit", 10, visit_on=visit_on, message="核查实验室场地、主要设备及持证人员")

    deciding = apply(26)  # 待审定
    story.claim(deciding, 25)
    story.act(
        deciding, "schedule_visit", 23, visit_on=to_beijing(story.moment(19)).date(), message="核查检测场地"
    )
    story.act(deciding, "record_visit", 18, message="场地、设备与申报一致，人员持证上岗。")
    story.act(
        deciding,
        "recommend_approval",
        16,
        message="资质齐全有效，信用中国、国家企业信用信息公示系统已核查无不良记录。",
    )

    approved = apply(61, approved_record)  # 已通过: listed in the directory
    story.claim(approved, 60)
    story.act(approved, "recommend_approval", 52, message="材料齐全，资质有效，信用核查无异常。")
    story.act(approved, "approve", 47, by=Role.AUTHORITY, message="同意入驻。")

    rejected = apply(41)  # 未通过
    story.claim(rejected, 40)
    story.act(
        rejected, "recommend_rejection", 36, message="资质认定证书已过有效期，且未能提供两年内服务案例。"
    )
    story.act(rejected, "reject", 33, by=Role.AUTHORITY, message="不符合《管理办法》第五条资质有效的要求。")

    story.withdraw(apply(13), 11)  # 已撤回
    # The applicants' numbers are invented: the notices the decisions queued are never sent.
    applicants = [a.applicant_id for a in made]
    db.session.execute(sa.delete(Notification).where(Notification.user_id.in_(applicants)))
    counts: dict[ApplicationState, int] = {}
    for application in made:
        counts[application.state] = counts.get(application.state, 0) + 1
    return counts


APPLICATIONS = 9  # how many institution records create_applications takes
