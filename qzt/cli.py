"""`flask --app app qzt …`: import institutions, demo data, accounts, the minute tick.

Like create_app, this module composes the areas: it may import any of them."""

import functools
import json
import sys
import time
from itertools import islice
from pathlib import Path
from typing import NoReturn

import click
import sqlalchemy as sa
from flask import current_app, url_for
from flask.cli import AppGroup

from qzt.assessments import demo as assessment_demo
from qzt.assessments import services as assessments
from qzt.auth.services import AccountError, create_user, register_enterprise, unlock
from qzt.consultations import demo as consultation_demo
from qzt.consultations import homepage
from qzt.consultations import services as consultations
from qzt.core import audit, clock, jobs, notifications, sms
from qzt.core.http import external_url
from qzt.directory import demo, importing, institutions, search
from qzt.extensions import db
from qzt.models import Institution, Role, User
from qzt.onboarding.services import submit as submit_application
from qzt.review import demo as review_demo
from qzt.review.services import remind_deadlines
from qzt.rules import phone as phones
from qzt.rules.calendar import to_beijing
from qzt.rules.phone import mask
from qzt.rules.values import parse_date
from qzt.rules.wechat import parse_templates
from qzt.supervision import checks, complaints
from qzt.supervision import demo as supervision_demo
from qzt.supervision import ratings as rating_follow_ups
from qzt.supervision import services as supervision
from qzt.wechat import menu as wechat_menu
from qzt.wechat import services as wechat
from qzt.withdrawals.services import withdraw_application

qzt = AppGroup("qzt", help="佛山企质通：导入入驻机构、生成演示数据、创建和查看账号。")


assessment_group = AppGroup("assessments", help="年度考核（第十六条）。")
qzt.add_command(assessment_group)


def init_app(app) -> None:
    app.cli.add_command(qzt)


def _fail(message: str) -> NoReturn:
    """Say what went wrong on stderr and exit with status 1, without a traceback."""
    click.echo(message, err=True)
    raise click.exceptions.Exit(1)


def _database_errors(command):
    """A missing table or an unreachable database is reported in one sentence, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as e:
            db.session.rollback()
            detail = str(e.orig or e).strip().splitlines()[0]
            _fail(f"数据库错误：{detail}\n数据库可能尚未初始化，请先运行 flask --app app db upgrade")

    return wrapper


@qzt.command("import-institutions")
@click.argument("file")
@_database_errors
def import_institutions_command(file: str) -> None:
    """从CSV（UTF-8）或Excel（.xlsx）文件导入入驻机构。

    表头：机构名称、统一社会信用代码、所在区、服务类别、服务项目、机构简介、联系电话、入驻日期。
    任何一行有误则不导入任何机构；统一社会信用代码已存在的机构会被更新。
    """
    try:
        records = importing.read_institutions(file)
    except importing.FileProblems as e:
        bad_rows = [row for row in e.rows if row > 1]
        head = "导入失败，未导入任何机构"
        head += f"：{len(bad_rows)}行数据有误，请修改后重新导入整个文件。" if bad_rows else "。"
        _fail("\n".join([head, *(str(p) for p in e.problems)]))
    result = institutions.import_listed(records)
    db.session.commit()
    institutions.analyze()
    db.session.commit()
    click.echo(f"导入完成：新增{result.created}家机构，更新{result.updated}家机构。")


@qzt.command("demo")
@click.option("--count", default=200, show_default=True, type=click.IntRange(1, 100_000), help="演示机构数量")
@click.option("--if-empty", is_flag=True, help="已有机构时不做任何事")
@click.option(
    "--history/--no-history",
    default=True,
    help="首次生成演示账号时，一并生成企业用户和两年的咨询、成交与案例记录",
)
@_database_errors
def demo_command(count: int, if_empty: bool, history: bool) -> None:
    """生成演示机构（固定随机种子，每次相同）、每种角色一个演示账号，以及两年的咨询历史。"""
    existing = institutions.count()
    if if_empty and existing:
        click.echo(f"已有{existing}家机构，未生成演示数据。")
        return
    started = time.perf_counter()
    # Continue numbering after what is there, and step over codes already taken (e.g. imported).
    taken = institutions.existing_usccs() if existing else set()
    records = islice(
        (r for r in demo.institutions(count + len(taken), start=existing) if r.uscc not in taken), count
    )
    ids = institutions.bulk_create_listed(records)
    created = _create_demo_accounts(ids[0] if ids else None)
    made = None
    if history and ids and Role.ENTERPRISE in created:
        enterprise = created[Role.ENTERPRISE]
        made = consultation_demo.create_history(
            ids[:HISTORY_INSTITUTIONS], clock.now(), enterprise.password_hash, [enterprise]
        )
        watched = supervision_demo.create_history(
            ids[:HISTORY_INSTITUTIONS],
            clock.today(),
            clock.now(),
            created.get(Role.OPERATOR),
            created.get(Role.AUTHORITY),
        )
        assessed = assessment_demo.create_history(
            clock.today(), created.get(Role.OPERATOR), created.get(Role.AUTHORITY)
        )
        applied = _create_demo_applications(created, count, existing, taken)
    db.session.commit()
    institutions.analyze()
    db.session.commit()
    click.echo(f"已生成{len(ids)}家演示机构（用时{time.perf_counter() - started:.1f}秒）。")
    if created:
        click.echo(f"已创建{len(created)}个演示账号，运行 flask --app app qzt accounts 查看。")
    if made:
        click.echo(
            f"已生成演示历史：{made.enterprises}家企业用户，{made.consultations}条咨询，{made.cases}个服务案例，"
            f"{watched.ratings}条服务评价，{watched.complaints}件投诉，{watched.spot_checks}次抽查，"
            f"{assessed}份年度考核评分表，{applied}份各状态的入驻申请。"
        )


HISTORY_INSTITUTIONS = 40  # demo history for the first institutions: enough to look in use, quick to make


def _create_demo_applications(created: dict[Role, User], count: int, existing: int, taken: set[str]) -> int:
    """Applications in every review state; how many. The approved one is that of a demo institution just
    listed (approving it lists it again, adding none); the others are of institutions numbered after them."""
    operator, authority = created.get(Role.OPERATOR), created.get(Role.AUTHORITY)
    if operator is None or authority is None:
        return 0
    today = clock.today()
    listed = list(
        islice(
            (r for r in demo.institutions(count + len(taken), start=existing) if r.uscc not in taken), count
        )
    )
    taken = institutions.existing_usccs()
    candidates = demo.institutions(review_demo.APPLICATIONS * 4, start=existing + count + len(taken) + 1000)
    records = [r for r in candidates if r.uscc not in taken and review_demo.suitable(r, today)]
    # Not the first: the demo institution account owns it.
    approved = next((r for r in reversed(listed[1:]) if review_demo.suitable(r, today)), records.pop())
    flow = review_demo.Flow(submit=submit_application, withdraw=withdraw_application)
    made = review_demo.create_applications(
        records,
        approved,
        clock.now(),
        flow,
        demo.DEMO_PASSWORD,
        created[Role.ENTERPRISE].password_hash,
        operator,
        authority,
    )
    return sum(made.values())


def _create_demo_accounts(institution_id: int | None) -> dict[Role, User]:
    """One account per role, unless its number is registered already; the institution account owns one."""
    taken = set(db.session.scalars(sa.select(User.phone).where(User.phone.in_(demo.DEMO_PHONES))))
    created = {}
    for account in demo.DEMO_ACCOUNTS:
        if account.phone in taken:
            continue
        if account.role == Role.ENTERPRISE:
            user = register_enterprise(account.phone, demo.DEMO_PASSWORD, account.name, None)
        else:
            user = create_user(Role(account.role), account.phone, account.name, demo.DEMO_PASSWORD)
        if user.role == Role.INSTITUTION and institution_id is not None:
            institutions.assign_owner(institution_id, user)
        if user.role == Role.AGENT and institution_id is not None:
            institutions.assign_agent(institution_id, user)
        created[user.role] = user
    return created


@qzt.command("create-user")
@click.option("--role", required=True, help="admin、authority、operator、institution 或 enterprise")
@click.option("--phone", required=True, help="手机号码，即登录名")
@click.option("--name", required=True, help="姓名或单位名称")
@_database_errors
def create_user_command(role: str, phone: str, name: str) -> None:
    """创建账号。密码从标准输入读取一行；在终端中运行时提示输入两次（不显示）。"""
    try:
        chosen = Role(role.strip().lower())
        if chosen == Role.AGENT:
            _fail("客服人员账号由机构在“机构工作台 → 客服人员”中添加，不能单独创建")
    except ValueError:
        choices = "、".join(f"{r.value}（{r.label}）" for r in Role if r != Role.AGENT)
        _fail(f"角色“{role}”无效，应为：{choices}")
    password = _read_password()
    try:
        user = create_user(chosen, phone, name, password)
    except AccountError as e:
        db.session.rollback()
        _fail(f"未创建账号：{e}")
    db.session.commit()
    click.echo(f"已创建{user.role.label}账号：{user.phone}（{user.name}）")


@qzt.command("unlock")
@click.argument("phone")
@_database_errors
def unlock_command(phone: str) -> None:
    """解锁因连续登录失败被锁定的账号。"""
    user = db.session.scalar(sa.select(User).where(User.phone == phones.normalize(phone)))
    if user is None:
        _fail(f"没有手机号码为 {phone} 的账号")
    unlock(user, None, ip="cli")
    db.session.commit()
    click.echo(f"已解锁账号：{user.phone}（{user.name}）")


def _read_password() -> str:
    stdin = sys.stdin
    if not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = click.prompt("密码", hide_input=True, prompt_suffix="：")
    second = click.prompt("再次输入密码", hide_input=True, prompt_suffix="：")
    if first != second:
        _fail("两次输入的密码不一致，未创建账号")
    return first


@qzt.command("reindex")
@click.option("--if-stale", is_flag=True, help="仅当索引由旧版本写入时重建（升级后运行）。")
@_database_errors
def reindex_command(if_stale: bool) -> None:
    """重建全部机构的搜索索引（升级后搜索规则或词库有变化时运行一次；网站可照常服务）。"""
    if if_stale and search.index_is_current():
        click.echo("搜索索引已是最新，无需重建")
        return
    started = time.monotonic()
    count = search.reindex_all()
    click.echo(f"搜索索引已重建：{count}家机构，用时{time.monotonic() - started:.1f}秒")


@qzt.command("audit-verify")
@_database_errors
def audit_verify_command() -> None:
    """校验审计日志的哈希链：按记录顺序逐条核对内容与前后衔接，报告第一处断开（退出码1）。"""
    verdict = audit.verify()
    if verdict.intact:
        click.echo(f"审计日志完整：共{verdict.checked}条记录，哈希链校验通过")
        return
    _fail(
        f"审计日志哈希链在 id {verdict.broken_id} 处断开：{verdict.problem}\n"
        f"（此前的{verdict.checked}条记录校验通过；之后的记录未再校验）"
    )


@qzt.command("accounts")
@_database_errors
def accounts_command() -> None:
    """列出演示账号（角色、手机号码、密码），供本地试用。"""
    users = {u.phone: u for u in db.session.scalars(sa.select(User).where(User.phone.in_(demo.DEMO_PHONES)))}
    if not users:
        click.echo(
            "没有演示账号。运行 flask --app app qzt demo 生成演示数据和账号，"
            "或用 flask --app app qzt create-user 创建账号。"
        )
        return
    click.echo("演示账号（手机号码 / 密码 / 角色）：")
    for account in demo.DEMO_ACCOUNTS:
        user = users.get(account.phone)
        if user is None:
            continue
        password = demo.DEMO_PASSWORD if user.check_password(demo.DEMO_PASSWORD) else "（密码已修改）"
        note = "" if user.active else "（已停用）"
        if user.role == Role.INSTITUTION:
            owned = db.session.scalar(sa.select(Institution.name).where(Institution.owner_id == user.id))
            note += f"，管理 {owned}" if owned else ""
        click.echo(f"  {user.phone}  {password}  {user.role.label}{note}")


@qzt.command("tick")
@click.option("--batch", default=50, show_default=True, type=click.IntRange(1, 10_000), help="最多发送条数")
@click.option("--quiet", is_flag=True, help="没有发送任何通知时不输出")
@_database_errors
def tick_command(batch: int, quiet: bool = False) -> None:
    """发送到期的短信通知（失败的稍后重试），并列出发送中断、需要人工核实的通知。供定时任务每分钟运行。"""
    reminded = remind_deadlines(clock.today())
    due_soon = consultations.remind_due(clock.now())
    homepages = homepage.remind_upkeep(clock.today())
    hidden, listed_again = supervision.apply_one_month_rule(clock.today())
    overdue_follow_ups = rating_follow_ups.remind_overdue(clock.today())
    certificates = supervision.remind_certificates(clock.today())
    complaints_overdue = complaints.remind_overdue(clock.today())
    rectifications = checks.remind_rectifications(clock.today())
    db.session.commit()
    if reminded:
        click.echo(f"补充材料截止提醒：新增{reminded}条。")
    if due_soon:
        click.echo(f"咨询即将超时提醒：新增{due_soon}条。")
    if homepages:
        click.echo(f"完善机构主页提醒：新增{homepages}条。")
    if certificates:
        click.echo(f"资质证书到期提醒：新增{certificates}条。")
    if overdue_follow_ups:
        click.echo(f"差评跟进逾期提醒：新增{overdue_follow_ups}条。")
    if complaints_overdue:
        click.echo(f"投诉核查逾期提醒：新增{complaints_overdue}条。")
    if rectifications:
        click.echo(f"抽查整改提醒：新增{rectifications}条。")
    if hidden or listed_again:
        click.echo(f"第十七条：隐藏{hidden}家机构主页，恢复显示{listed_again}家。")

    try:
        backend = sms.backend_from_config(current_app.config)
    except sms.SmsConfigError as e:
        _fail(f"短信设置有误：{e}")
    result = notifications.tick(backend, batch=batch, wechat_backend=_wechat_sender())
    if not quiet or result.sent or result.retried or result.failed:
        click.echo(
            f"短信通知：发送{result.sent}条，失败待重试{result.retried}条，多次失败已放弃{result.failed}条。"
        )
    if result.stuck:
        minutes = int(notifications.STUCK_AFTER.total_seconds() // 60)
        click.echo(
            f"{len(result.stuck)}条通知发送中断超过{minutes}分钟，未自动重发（可能已送达），请到短信服务商处核实："
        )
        for n in notifications.stuck():
            started = to_beijing(n.claimed_at)
            click.echo(f"  #{n.id}  {mask(n.phone)}  {n.kind}  {n.title}  开始发送于{started:%Y-%m-%d %H:%M}")
    finished = jobs.run_due()  # after the notices: a long batch must not hold them up
    if finished:
        click.echo(f"后台任务（批量打印）：完成{finished}个。")


def _wechat_sender() -> "wechat.SubscriptionSender | None":
    """The outbox's WeChat channel, when WeChat is set up (QZT_WECHAT_*)."""
    settings = wechat.Settings.from_config(current_app.config)
    if settings is None:
        return None
    try:
        templates = parse_templates(current_app.config.get("QZT_WECHAT_TEMPLATES"))
    except ValueError as e:
        _fail(f"微信设置有误：{e}")
    with current_app.test_request_context():
        notices = external_url("auth.notices")
    return wechat.SubscriptionSender(settings, templates, notices)


@qzt.command("wechat-menu")
@click.option("--dry-run", is_flag=True, help="只显示菜单，不发布")
def wechat_menu_command(dry_run: bool) -> None:
    """发布公众号自定义菜单（机构名录、机构入驻、我的），链接指向 QZT_PUBLIC_URL。"""
    public = current_app.config.get("QZT_PUBLIC_URL")
    if not public:
        _fail("请先设置 QZT_PUBLIC_URL（网站地址，须是公众号网页授权域名），菜单链接由它生成。")
    with current_app.test_request_context():

        def address(endpoint: str, login: bool) -> str:
            if login:
                return external_url("wechat.login", next=url_for(endpoint))
            return external_url(endpoint)

        payload = wechat.menu_payload(wechat_menu.MENU, address)
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    if dry_run:
        return
    settings = wechat.Settings.from_config(current_app.config)
    if settings is None:
        _fail("请先设置 QZT_WECHAT_APPID 和 QZT_WECHAT_SECRET。")
    try:
        wechat.publish_menu(settings, payload)
    except wechat.WechatError as e:
        _fail(str(e))
    click.echo("公众号菜单已发布（微信客户端约5分钟内更新）。")


@qzt.command("worker")
@click.option(
    "--interval", default=5, show_default=True, type=click.IntRange(1, 3600), help="每隔多少秒运行一次"
)
@click.pass_context
def worker_command(ctx, interval: int) -> None:
    """每隔几秒运行一次 tick（通知、提醒、批量打印），供没有定时任务的环境使用；make run 会启动它。"""
    while True:
        ctx.invoke(tick_command, batch=50, quiet=True)
        db.session.remove()
        time.sleep(interval)


@assessment_group.command("open")
@click.option("--on", "on", default=None, metavar="YYYY-MM-DD", help="按这一天计算（默认：平台时钟的今天）")
@_database_errors
def open_assessments_command(on: str | None) -> None:
    """为截至当天已结束、尚无评分表的每个考核周期生成评分表，并按记录预填。可重复运行；供定时任务每天运行。"""
    day = clock.today()
    if on is not None:
        day = parse_date(on)
        if day is None:
            _fail(f"日期格式不对：{on}（应为 YYYY-MM-DD，例如 2026-07-01）")
    opened = assessments.open_due(day)
    db.session.commit()
    click.echo(f"截至{day.isoformat()}：新生成考核评分表{len(opened)}份。")


def _site():
    """The configured database (as the app resolved its URL) and uploads' storage, for backup/restore."""
    from qzt.core import backup, files

    return backup.Site(db.engine.url.render_as_string(hide_password=False), files.storage())


@qzt.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_database_errors
def backup_command(directory: Path) -> None:
    """网站运行时做一份一致的备份：先复制数据库（SQLite备份接口或pg_dump），再复制上传文件，
    最后写入带SHA-256的清单 manifest.json。DIRECTORY 须是新目录或空目录。"""
    from qzt.core import backup

    try:
        manifest = backup.backup(_site(), directory)
    except backup.BackupError as error:
        _fail(f"备份失败：{error}")
    tables, uploads = manifest["tables"], backup.uploads_in(manifest)
    click.echo(
        f"备份完成：{directory}（{backup.ENGINE_NAME[manifest['engine']]}，迁移版本 "
        f"{manifest['alembic_revision']}）共{len(tables)}张表、{sum(tables.values())}行，"
        f"{len(manifest['files'])}个文件（其中上传文件{len(uploads)}个），清单 {backup.MANIFEST}"
    )
    if missing := manifest["missing_uploads"]:
        click.echo(
            f"警告：数据库引用的{len(missing)}个上传文件在存储中不存在，未能备份："
            + "、".join(missing[:10])
            + ("等" if len(missing) > 10 else ""),
            err=True,
        )


@qzt.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="目标数据库或上传目录已有数据时仍然恢复（覆盖）")
@_database_errors
def restore_command(directory: Path, force: bool) -> None:
    """从 qzt backup 的备份恢复：先按清单校验每个文件的SHA-256，目标实例不为空时拒绝（除非 --force），
    再恢复数据库和上传文件，最后按清单核对各表行数。请先停止网站和 qzt worker。"""
    from qzt.core import backup

    db.session.remove()
    db.engine.dispose()  # no connection of ours on the database about to be replaced
    try:
        restored = backup.restore(_site(), directory, force=force)
    except backup.BackupError as error:
        _fail(f"恢复失败：{error}")
    manifest = restored.manifest
    if restored.mismatches:
        wrong = restored.mismatches.items()
        _fail(
            "恢复后以下表的行数与清单不符：" + "；".join(f"{t} 清单{a}行、实际{b}行" for t, (a, b) in wrong)
        )
    click.echo(
        f"恢复完成：{directory}（备份于 {manifest['created_at']}，迁移版本 {manifest['alembic_revision']}），"
        f"{len(manifest['tables'])}张表的行数与清单一致，上传文件{restored.files}个已复制。"
        "如程序比备份新，请再运行 flask --app app db upgrade。"
    )
