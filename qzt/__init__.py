"""佛山企质通: the application factory."""

from pathlib import Path

from flask import Flask

from qzt import config, database  # noqa: F401  (registers the SQLite pragmas)
from qzt.extensions import csrf, db, htmx, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
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
    _register_blueprints(app)

    from qzt import cli, web

    web.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"


def _register_blueprints(app: Flask) -> None:
    from qzt.api.views import bp as api_bp
    from qzt.auth.views import bp as auth_bp
    from qzt.directory.views import bp as directory_bp
    from qzt.onboarding import bp as onboarding_bp
    from qzt.onboarding import pledge_views, views  # noqa: F401  (their routes register on onboarding_bp)
    from qzt.review.views import bp as review_bp

    app.register_blueprint(directory_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(onboarding_bp)
    app.register_blueprint(review_bp)
    csrf.exempt(api_bp)  # read-only GET API
