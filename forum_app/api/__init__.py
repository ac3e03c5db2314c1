"""The JSON API under /api/v1 (flask-smorest: marshmallow schemas, OpenAPI generated from them)."""

from .models import ApiToken  # noqa: F401  (the table is part of the schema)


def init_app(app) -> None:
    from .views import register

    register(app)
