"""What every template can use: filters, the catalog, the regulation's limits, the phone rule."""

from datetime import datetime, timedelta

from flask import Flask, g, has_request_context, request
from flask_login import current_user
from markupsafe import Markup, escape

from qzt.core import clock
from qzt.core.http import is_fragment
from qzt.data import catalog
from qzt.rules import calendar, eligibility, passwords, phone, search_query, uploads, wechat
from qzt.rules.calendar import to_beijing

# The catalog, and the regulation's limits the pages state (never restated in a template).
CATALOG = ("CATEGORIES", "DISTRICTS", "CATEGORY_NAMES", "DISTRICT_NAMES", "ORG_TYPES", "ORG_TYPE_NAMES")
LIMITS = ("DECLARATIONS", "AGENTS_MIN", "AGENTS_MAX", "FEATURED_MIN", "FEATURED_MAX")

# Art. 14's response times, in the words the pages use.
ART14 = {
    "daytime": f"{calendar.DAYTIME_START:%-H:%M}-{calendar.DAYTIME_END:%-H:%M}",
    "working_day_hours": int(calendar.WORKING_DAY_REPLY.total_seconds() // 3600),
    "day_off_hours": int(calendar.DAY_OFF_REPLY.total_seconds() // 3600),
}


def beijing(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored moment as Beijing time, for templates."""
    return to_beijing(moment).strftime(fmt) if moment is not None else ""


def duration(value: timedelta | int | float | None) -> str:
    """A response time in words: 1小时17分, 18分; seconds or a timedelta; empty for None."""
    if value is None:
        return ""
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    hours, minutes = divmod(max(seconds, 0) // 60, 60)
    return f"{hours}小时{minutes}分" if hours else f"{minutes}分"


def phone_for(number: str, institution=None) -> str:
    """An agent's mobile: in full for logged-in users (clients who may call), masked (138****1234) for
    anonymous visitors, so that numbers cannot be harvested from public pages."""
    return number if current_user.is_authenticated else phone.mask(number)


def highlight(text: str | None, words: tuple = ()) -> Markup:
    """`text` escaped, the search's words in it marked: <mark>计量</mark>检测所."""
    return Markup("").join(
        Markup("<mark>{}</mark>").format(piece) if matched else escape(piece)
        for piece, matched in search_query.highlight_spans(text or "", words)
    )


def in_wechat() -> bool:
    """The page is for WeChat's in-app browser, which gets hints of its own (choosing files, opening
    PDFs). The page cache (qzt.core.pagecache) then does not keep the page: it is not the same for
    every browser."""
    if not has_request_context():
        return False
    g.varies_by_browser = True
    return wechat.in_wechat(request.user_agent.string)


def _vary_by_browser(response):
    if g.get("varies_by_browser"):
        response.vary.add("User-Agent")
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.filters["highlight"] = highlight
    app.jinja_env.filters["mask_phone"] = phone.mask
    app.jinja_env.filters["beijing"] = beijing
    app.jinja_env.filters["duration"] = duration
    # A stored file's name as shown: rows from before names were cleaned on upload are cleaned here.
    app.jinja_env.filters["file_name"] = lambda stored: uploads.display_name(stored.filename, stored.mime)
    app.jinja_env.globals.update(
        {name: getattr(catalog, name) for name in CATALOG},
        **{name: getattr(eligibility, name) for name in LIMITS},
        ART14=ART14,
        is_fragment=is_fragment,
        phone_for=phone_for,
        PASSWORD_HINT=passwords.HINT,
        in_wechat=in_wechat,
        UPLOAD_ACCEPT=uploads.ACCEPT,
        IMAGE_ACCEPT=uploads.IMAGE_ACCEPT,
    )
    app.after_request(_vary_by_browser)

    @app.context_processor
    def _today():
        return {"today": clock.today(), "demo_clock": clock.fixed()}
