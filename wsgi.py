"""WSGI entry point: ``gunicorn -c gunicorn.conf.py wsgi:app`` or ``flask --app wsgi run``.

Process tuning (workers, recycling, malloc arenas) lives in gunicorn.conf.py and docs/operations.md.
"""

import os

from forum_app import create_app

# The flask command (flask db upgrade, flask forum …) sets FLASK_RUN_FROM_CLI before it loads
# this file; a WSGI server does not, and its workers then go without Flask-Migrate and Alembic.
app = create_app(migrations=os.environ.get("FLASK_RUN_FROM_CLI") == "true")
