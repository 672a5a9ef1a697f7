"""Settings from the environment: DATABASE_URL, SECRET_KEY, QZT_PAGE_CACHE, QZT_FRAGMENT_CACHE,
QZT_SEARCH_CACHE, QZT_CLOCK, QZT_PUBLIC_URL, QZT_PROXY_COUNT, QZT_REDIS_URL, QZT_RATELIMIT_STORAGE_URL,
QZT_LOG_FORMAT, QZT_STORAGE_URL and QZT_S3_*, and the footer's QZT_OPERATOR_HOTLINE, QZT_OPERATOR_HOURS,
QZT_ICP_NUMBER and QZT_SITE_CODE; QZT_WECHAT_* for the WeChat official account."""

import os
import secrets
from pathlib import Path


def database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{Path(instance_path) / 'qzt.sqlite3'}"
    # Plain postgresql:// URLs (as hosting panels hand them out) go through psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _count(name: str, default: int = 0) -> int:
    """A setting that counts things: a whole number, `default` when unset."""
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise ValueError(f"{name}={value!r}: expected a whole number, e.g. 1")
    return int(value)


REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")


def redis_url() -> str | None:
    """QZT_REDIS_URL: the Redis shared by every app server (the request limits), or None."""
    url = (os.environ.get("QZT_REDIS_URL") or "").strip()
    if url and not url.startswith(REDIS_SCHEMES):
        raise ValueError(
            f"QZT_REDIS_URL={url!r}: expected redis://host:6379/0, rediss://… or redis+unix:///path"
        )
    return url or None


def ratelimit_storage() -> str:
    """Where the request limits are counted: QZT_RATELIMIT_STORAGE_URL, else QZT_REDIS_URL, else each
    process's memory (right for one process, too lenient for several)."""
    return os.environ.get("QZT_RATELIMIT_STORAGE_URL") or redis_url() or "memory://"


# Where uploads live (qzt.core.storage, checked when the app is made): a folder or an S3 bucket, and
# the S3 service's address, keys, region and addressing style.
STORAGE_SETTINGS = (
    "QZT_STORAGE_URL",
    "QZT_S3_ENDPOINT_URL",
    "QZT_S3_ACCESS_KEY_ID",
    "QZT_S3_SECRET_ACCESS_KEY",
    "QZT_S3_REGION",
    "QZT_S3_ADDRESSING_STYLE",
)

# The footer: the operator's hotline and its hours, the ICP filing number (ICP备案号) and the government
# site code (网站标识码).
FOOTER_SETTINGS = ("QZT_OPERATOR_HOTLINE", "QZT_OPERATOR_HOURS", "QZT_ICP_NUMBER", "QZT_SITE_CODE")


# The WeChat official account (qzt.wechat): web authorization, its menu and subscription notices. Unset
# APPID or SECRET: no WeChat at all. The two base URLs are WeChat's own; tests point them at a fake.
WECHAT_SETTINGS = {
    "QZT_WECHAT_APPID": None,
    "QZT_WECHAT_SECRET": None,
    "QZT_WECHAT_API_BASE": "https://api.weixin.qq.com/",
    "QZT_WECHAT_OAUTH_BASE": "https://open.weixin.qq.com/connect/",
    "QZT_WECHAT_TEMPLATES": None,  # JSON: notice kind -> subscription template id
}


def from_environment(instance_path: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "SECRET_KEY": secret_key(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
        "PER_PAGE": 20,
        "PAGE_CACHE": os.environ.get("QZT_PAGE_CACHE", "1") != "0",
        "FRAGMENT_CACHE": os.environ.get("QZT_FRAGMENT_CACHE", "1") != "0",
        "SEARCH_CACHE": os.environ.get("QZT_SEARCH_CACHE", "1") != "0",
        "QZT_CLOCK": os.environ.get("QZT_CLOCK") or None,
        "QZT_PUBLIC_URL": os.environ.get("QZT_PUBLIC_URL") or None,
        "QZT_PROXY_COUNT": _count("QZT_PROXY_COUNT"),
        "QZT_SCREENING_WORKING_DAYS": _count("QZT_SCREENING_WORKING_DAYS", 5),
        "QZT_REDIS_URL": redis_url(),
        "RATELIMIT_STORAGE_URI": ratelimit_storage(),
        # Redis down: count in this process's memory until it is back (Flask-Limiter retries it), rather
        # than refuse every login with a 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        "RATELIMIT_HEADERS_ENABLED": True,
        "QZT_LOG_FORMAT": os.environ.get("QZT_LOG_FORMAT") or "text",
        "QZT_STATEMENT_TIMEOUT_MS": _count("QZT_STATEMENT_TIMEOUT_MS", default=5000),
        # Where the directory's version is LISTENed for (qzt.core.pagecache): the database itself, not a
        # pgbouncer in transaction mode; "off" asks it per request instead.
        "QZT_DIRECTORY_LISTEN_URL": os.environ.get("QZT_DIRECTORY_LISTEN_URL") or None,
        # The footer's 联系我们 and the filing numbers every Chinese government-run site shows; each line
        # is left out while its setting is unset.
        **{name: (os.environ.get(name) or "").strip() or None for name in FOOTER_SETTINGS},
        **{name: os.environ.get(name) or None for name in STORAGE_SETTINGS},
        **{name: os.environ.get(name) or default for name, default in WECHAT_SETTINGS.items()},
    }
