"""Several app servers and workers on one database (issue 13.5): request limits counted once in Redis,
the anonymous page cache right in every process, background work done once by two workers at once.
Real processes on loopback (gunicorn, `flask qzt tick`, redis-server), on the engine --db names."""

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from factories import PASSWORD
from servers import ROOT, Redis, Server, SmsProvider, app_env

from qzt.core import notifications
from qzt.extensions import db
from qzt.models import BackgroundJob, DeliveryState, JobState, Notification, Role, StoredFile

FLASK = Path(sys.executable).parent / "flask"
TIMEOUT = 10
LIMIT = 10  # qzt.core.limits.GUESSING: 10 a minute per address


def token(session: requests.Session, url: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', session.get(url, timeout=TIMEOUT).text)
    assert match, f"no csrf-token on {url}"
    return match.group(1)


def wrong_login(server: Server, n: int) -> requests.Response:
    """One login with a wrong password, for a number nobody has (so no account is locked): the answer."""
    session = requests.Session()
    data = {
        "phone": f"1390000{n:04d}",
        "password": "wrong-password",
        "csrf_token": token(session, server.url + "/login"),
    }
    return session.post(server.url + "/login", data=data, allow_redirects=False, timeout=TIMEOUT)


@pytest.fixture
def redis(tmp_path):
    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def servers(app, database_url, tmp_path):
    """Start app servers of one worker each, all on the test database; each call takes settings."""
    started = []

    def start(count: int = 2, **settings) -> list[Server]:
        db.session.remove()
        db.engine.dispose()  # the servers alone on the database
        for _ in range(count):
            n = len(started)
            env = app_env(database_url, tmp_path / f"instance-{n}", **settings)
            server = Server(env, tmp_path / f"gunicorn-{n}.log", workers=1)
            started.append(server)
            server.start()
        return started[-count:]

    yield start
    for server in started:
        server.kill()


def test_request_limits_are_counted_once_across_app_servers_with_redis(servers, redis):
    first, second = servers(2, QZT_REDIS_URL=redis.url)
    answers = [wrong_login((first, second)[n % 2], n) for n in range(LIMIT + 1)]
    # Each process alone has seen 5 or 6 attempts; together they are over the limit.
    assert [answer.status_code for answer in answers] == [422] * LIMIT + [429]
    assert "操作过于频繁" in answers[-1].text
    assert requests.get(first.url + "/readyz", timeout=TIMEOUT).json()["redis"] == "ok"


def test_redis_down_the_site_still_answers_and_limits_fall_back_to_each_process(servers, redis):
    (server,) = servers(1, QZT_REDIS_URL=redis.url)
    assert wrong_login(server, 0).status_code == 422
    redis.stop()
    ready = requests.get(server.url + "/readyz", timeout=TIMEOUT)
    assert ready.status_code == 200 and ready.json()["redis"].startswith("down")
    statuses = [wrong_login(server, n).status_code for n in range(1, LIMIT + 2)]
    assert 500 not in statuses
    assert statuses[-1] == 429  # counted in memory meanwhile: still limited


def test_page_cache_shows_a_change_made_through_another_app_server(servers, make_institution, make_user):
    owner = make_user(Role.INSTITUTION, phone="13700000002", name="机构账号")
    institution = make_institution(
        "佛山市两台服务器检测有限公司",
        services=[("inspection", "家电安全检测", "GB 4706", True), ("metrology", "温度计校准", "", True)],
    )
    institution.owner_id = owner.id
    db.session.commit()
    page, search = f"/institutions/{institution.id}", "/directory?q=两台服务器"
    editor, reader = servers(2)  # the page cache is on, as in production

    # The directory card lists the featured services; the edit features 电磁兼容测试 instead of 温度计校准.
    for _ in range(2):  # the second answer comes from the reader's cache
        assert "服务顺德家电产业" not in requests.get(reader.url + page, timeout=TIMEOUT).text
        assert "电磁兼容测试" not in requests.get(reader.url + search, timeout=TIMEOUT).text

    agent = requests.Session()
    login = {"phone": "13700000002", "password": PASSWORD, "csrf_token": token(agent, editor.url + "/login")}
    assert (
        agent.post(editor.url + "/login", data=login, allow_redirects=False, timeout=TIMEOUT).status_code
        == 302
    )
    edit = {
        "introduction": "专业从事家用电器安全、能效检验检测，具备CMA和CNAS资质，服务顺德家电产业。",
        "address": "佛山市顺德区大良街道新城区1号",
        "phone": "0757-22223333",
        "s-0-category": "inspection",
        "s-0-title": "家电安全检测",
        "s-0-featured": "y",
        "s-1-category": "metrology",
        "s-1-title": "温度计校准",
        "s-2-category": "testing",
        "s-2-title": "电磁兼容测试",
        "s-2-featured": "y",
        "csrf_token": token(agent, editor.url + "/workbench/homepage"),
    }
    saved = agent.post(editor.url + "/workbench/homepage", data=edit, allow_redirects=False, timeout=TIMEOUT)
    assert saved.status_code == 302

    assert "服务顺德家电产业" in requests.get(reader.url + page, timeout=TIMEOUT).text
    assert "电磁兼容测试" in requests.get(reader.url + search, timeout=TIMEOUT).text


# --- two workers at once ---


@pytest.fixture
def provider():
    with SmsProvider(delay=0.02) as server:  # a little slow, so that the two workers overlap
        yield server


NOTICES = 60
JOBS = 3
NOW = "2026-07-06T09:00:00+08:00"


def SMS_TO(provider) -> dict[str, str]:  # noqa: N802 - reads as a constant
    """Settings that send every SMS to the local stand-in for Alibaba Cloud."""
    return {
        "QZT_SMS_BACKEND": "aliyun",
        "QZT_SMS_ENDPOINT": provider.endpoint,
        "QZT_SMS_PROTOCOL": "http",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "test-key-id",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "test-key-secret",
        "QZT_SMS_SIGN_NAME": "佛山企质通",
        "QZT_SMS_TEMPLATE_VERIFICATION_CODE": "SMS_1",
    }


def test_two_workers_at_once_send_each_notice_once_and_run_each_job_once(
    app, database_url, provider, make_user, make_institution, tmp_path
):
    """Both run the whole `qzt tick` (reminders, the outbox, the batch printing) over the same rows."""
    from qzt.assessments import services as assessments
    from qzt.assessments.printing import request_batch

    app.config["QZT_CLOCK"] = NOW
    operator = make_user(Role.OPERATOR, phone="13700000004", name="运维小王")
    numbers = [f"1350000{n:04d}" for n in range(NOTICES)]
    for n, number in enumerate(numbers):
        notifications.notify_number(number, "verification-code", "验证码", "验证码", {"code": f"{n:06d}"})
    for n in range(JOBS * 2):
        make_institution(f"佛山市双工作进程第{n + 1:02d}检测所", opened_on=date(2025, 1, 6))
    opened = assessments.open_due(date(2026, 7, 6))
    assert len(opened) == JOBS * 2
    for k in range(JOBS):
        request_batch(operator, assessments.Filters(ids=tuple(a.id for a in opened[2 * k : 2 * k + 2])))
    db.session.commit()
    db.session.remove()
    db.engine.dispose()

    env = app_env(database_url, tmp_path / "worker-instance", QZT_CLOCK=NOW, **SMS_TO(provider))
    tick = [str(FLASK), "--app", "app", "qzt", "tick", "--batch", str(NOTICES)]
    workers = [
        subprocess.Popen(tick, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs

    sent_to = sorted(request["fields"]["PhoneNumbers"] for request in provider.received)
    assert sent_to == numbers  # every notice sent, none twice
    sent = sa.select(sa.func.count()).where(
        Notification.state == DeliveryState.SENT, Notification.phone.in_(numbers)
    )
    assert db.session.scalar(sent) == NOTICES
    jobs = db.session.scalars(sa.select(BackgroundJob).order_by(BackgroundJob.id)).all()
    assert [job.state for job in jobs] == [JobState.DONE] * JOBS
    batches = (
        sa.select(sa.func.count()).select_from(StoredFile).where(StoredFile.purpose == "assessment_print")
    )
    assert db.session.scalar(batches) == JOBS  # a job run twice would have made a second file
    finished = [int(n) for out in outputs for n in re.findall(r"批量打印）：完成(\d+)个", out)]
    assert sum(finished) == JOBS, outputs
