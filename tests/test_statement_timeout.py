"""One slow query never stalls the site (issue 17): on PostgreSQL a web request's statements are stopped
after QZT_STATEMENT_TIMEOUT_MS; the user gets a clear 503 page in Chinese, the query is logged, and the
next request is served as usual. Command-line work keeps no limit."""

import logging

import pytest
import sqlalchemy as sa

from qzt.extensions import db


@pytest.fixture
def slow_route(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("statement_timeout is PostgreSQL's; SQLite runs in the app's own process")
    app.config["QZT_STATEMENT_TIMEOUT_MS"] = 300
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: errors reach the error pages

    @app.get("/slow-for-test")
    def slow():
        db.session.execute(sa.text("SELECT pg_sleep(3)"))
        return "finished"

    db.session.remove()
    db.engine.dispose()  # the request checks out a connection of its own


def test_a_slow_query_answers_503_in_chinese_and_the_site_goes_on(client, slow_route, caplog):
    caplog.set_level(logging.ERROR)
    response = client.get("/slow-for-test")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "系统繁忙" in page and "本次查询用时过长" in page and "请求编号" in page
    assert "pg_sleep" in caplog.text  # the query, in the log
    assert client.get("/").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_the_api_gets_the_503_as_json(client, slow_route, app):
    @app.get("/api/v1/slow-for-test")
    def slow_api():
        db.session.execute(sa.text("SELECT pg_sleep(3)"))
        return {}

    response = client.get("/api/v1/slow-for-test")
    assert response.status_code == 503 and "本次查询用时过长" in response.get_json()["error"]


def test_command_line_work_keeps_no_limit(app, slow_route):
    # Outside a request (migrations, backups, bulk loads): a statement longer than the limit finishes.
    db.session.execute(sa.text("SELECT pg_sleep(0.5)"))  # raises if it were stopped
    assert db.session.scalar(sa.text("SHOW statement_timeout")) == "0"
