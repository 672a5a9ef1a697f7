"""佛山企质通: the application factory."""

import importlib
import os
from pathlib import Path

from flask import Flask

from qzt import config
from qzt.extensions import csrf, db, htmx, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.path.abspath(os.environ.get("QZT_INSTANCE_PATH") or ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    instance_path = (test_config or {}).get("INSTANCE_PATH", app.instance_path)
    app.instance_path = instance_path
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config.from_environment(instance_path))
    if test_config:
        app.config.update(test_config)

    _init_extensions(app)
    _init_core(app)
    _register_blueprints(app)

    from qzt import cli

    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"


def _init_core(app: Flask) -> None:
    from qzt.core import clock, database, health, http, pagecache, requestlog, templating

    requestlog.init_app(app)
    clock.init_app(app)
    database.init_app(app)
    pagecache.init_app(app)
    http.init_app(app)
    health.init_app(app)
    templating.init_app(app)


AREAS = (
    "directory",
    "directory.api",
    "auth",
    "onboarding",
    "pledges",
    "review",
    "withdrawals",
    "operations",
    "consultations",
    "supervision",
    "assessments",
    "statistics",
    "wechat",
)


def _register_blueprints(app: Flask) -> None:
    """Each area's blueprint, its routes (views.py) and whatever it installs (init_app)."""
    from qzt.core import charts, errors, files

    app.register_blueprint(errors.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(charts.bp)
    for name in AREAS:
        area = importlib.import_module(f"qzt.{name}")
        importlib.import_module(f"qzt.{name}.views")
        app.register_blueprint(area.bp)
        if hasattr(area, "init_app"):
            area.init_app(app)
    csrf.exempt(app.blueprints["api"])  # read-only GET API
