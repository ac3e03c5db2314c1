"""Forum Desk: plan and record local coordination forums and follow their actions."""

from __future__ import annotations

from flask import Flask

from .config import INSTANCE_DIR, PROJECT_ROOT, load_config
from .core.urls import BoundedIntConverter


def create_app(config: dict | None = None, migrations: bool = True) -> Flask:
    """Build the application. ``config`` overrides settings read from the environment.

    ``migrations=False`` (web workers, see wsgi.py) leaves out Flask-Migrate and Alembic.
    """
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    app.config.from_mapping(load_config(config))

    from . import database, web
    from .core import dates, language
    from .extensions import babel, cache, csrf, db, login_manager, mail

    db.init_app(app)
    database.configure_engine(app)
    if migrations:
        from flask_migrate import Migrate

        from .models.base import render_migration_item

        Migrate(
            app,
            db,
            directory=str(PROJECT_ROOT / "migrations"),
            compare_type=True,
            # Batch mode lets later migrations alter SQLite tables (it has little ALTER TABLE).
            render_as_batch=True,
            render_item=render_migration_item,
        )
    csrf.init_app(app)
    mail.init_app(app)
    babel.init_app(app, locale_selector=language.select_locale)
    language.init_app(app)
    cache.init_app(app)
    login_manager.init_app(app)

    # Ids in URLs are bounded to the database's integer range before they reach a
    # query: /meetings/99999999999 is a 404, not an overflow inside the driver.
    app.url_map.converters["int"] = BoundedIntConverter

    from .account.views import bp as account_bp
    from .actions.views import bp as actions_bp
    from .admin.views import bp as admin_bp
    from .audit_log.views import bp as audit_log_bp
    from .auth.views import bp as auth_bp
    from .calendar.views import bp as calendar_bp
    from .core.views import bp as core_bp
    from .documents import views as documents_views
    from .forums.views import bp as forums_bp
    from .home.views import bp as home_bp
    from .meetings.day_views import bp as meeting_day_bp
    from .meetings.views import bp as meetings_bp
    from .news.views import bp as news_bp
    from .notifications.views import bp as notifications_bp
    from .reports.views import bp as reports_bp
    from .reviews.views import bp as reviews_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(audit_log_bp)
    app.register_blueprint(forums_bp)
    app.register_blueprint(meetings_bp)
    app.register_blueprint(meeting_day_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(actions_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(news_bp)
    app.register_blueprint(documents_views.bp)
    documents_views.init_app(app)  # the upload routes' own body limit
    from .api import init_app as init_api

    init_api(app)

    web.init_app(app)
    dates.init_app(app)  # the Jinja filters for dates, times and numbers (Babel)

    from . import web_delivery

    web_delivery.init_app(app)  # gzip and year-long caching of versioned static files

    from . import bench

    if bench.enabled():
        bench.init_app(app)  # queries per request in a response header, for make bench only

    from .cli import forum_cli

    app.cli.add_command(forum_cli)
    return app
