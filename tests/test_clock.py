"""The platform clock: Beijing dates whatever the server's zone, and QZT_CLOCK fixing "now"."""

from datetime import UTC, date, datetime

import pytest

from qzt import create_app
from qzt.core import clock


def test_today_is_the_beijing_date_in_the_small_hours(app):
    # 01:21 Beijing time on 25 November is still 24 November in UTC.
    app.config["QZT_CLOCK"] = "2026-11-25T01:21:00+08:00"
    assert clock.now() == datetime(2026, 11, 24, 17, 21, tzinfo=UTC)
    assert clock.today() == date(2026, 11, 25)


def test_qzt_clock_fixes_now_for_pages_and_shows_the_demo_banner(app, client):
    app.config["QZT_CLOCK"] = "2027-07-01T10:00:00+08:00"
    html = client.get("/").get_data(as_text=True)
    assert "演示时钟" in html and "2027-07-01 10:00" in html


def test_without_qzt_clock_there_is_no_banner(app, client):
    assert "演示时钟" not in client.get("/").get_data(as_text=True)
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5


def test_qzt_clock_is_read_from_the_environment_by_commands(monkeypatch):
    monkeypatch.setenv("QZT_CLOCK", "2027-07-01T10:00:00+08:00")
    assert clock.today() == date(2027, 7, 1)  # no app: the environment


@pytest.mark.parametrize("value", ["2027-07-01", "tomorrow", "2027-07-01T10:00:00"])
def test_a_bad_qzt_clock_is_refused_at_start_up_with_what_to_write(value, tmp_path):
    with pytest.raises(ValueError, match="QZT_CLOCK"):
        create_app(
            {"QZT_CLOCK": value, "INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"}
        )
