"""Flask extensions, created once and bound to the app in ``create_app``.

Flask-Migrate is not among them: it imports Alembic (11 MB per process), which only the
command line and the tests use, so ``create_app`` binds it there and web workers go without.
"""

from __future__ import annotations

from flask_babel import Babel
from flask_caching import Cache
from flask_login import LoginManager
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from .models.base import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
mail = Mail()
csrf = CSRFProtect()
babel = Babel()
# The one data cache: the dashboard's figures (reports/dashboard.py), never rendered HTML.
cache = Cache(with_jinja2_ext=False)  # no {% cache %} tag: templates never keep HTML
