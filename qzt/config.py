"""Settings from the environment: DATABASE_URL, SECRET_KEY, QZT_PAGE_CACHE, QZT_CLOCK, QZT_PUBLIC_URL,
QZT_PROXY_COUNT, QZT_RATELIMIT_STORAGE_URL, QZT_LOG_FORMAT."""

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


def _count(name: str) -> int:
    """A setting that counts things: a whole number, 0 when unset."""
    value = (os.environ.get(name) or "").strip()
    if not value:
        return 0
    if not value.isdigit():
        raise ValueError(f"{name}={value!r}: expected a whole number, e.g. 1")
    return int(value)


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
        "QZT_CLOCK": os.environ.get("QZT_CLOCK") or None,
        "QZT_PUBLIC_URL": os.environ.get("QZT_PUBLIC_URL") or None,
        "QZT_PROXY_COUNT": _count("QZT_PROXY_COUNT"),
        "RATELIMIT_STORAGE_URI": os.environ.get("QZT_RATELIMIT_STORAGE_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "QZT_LOG_FORMAT": os.environ.get("QZT_LOG_FORMAT") or "text",
    }
