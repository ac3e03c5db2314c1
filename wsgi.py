"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""
from forum_app import create_app

app = create_app()
