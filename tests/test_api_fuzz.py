"""A bounded schemathesis run against the app's own OpenAPI document (/api/v1/openapi.json).

Every operation gets a few generated requests, valid and invalid, sent with a read-write
token of an organiser on small seeded data. Each response must not be a server error, must
carry a status and content type the document declares, and must conform to its schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from forum_app.api.tokens import TokenInput, create_token
from forum_app.extensions import db
from forum_app.models import User

from .factories import Factory

pytestmark = pytest.mark.slow

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 25


def _write_token(app: Flask, email: str) -> str:
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
        _, secret = create_token(user, TokenInput(name="fuzz", can_write=True))
        db.session.commit()
        return secret


def _seed(make: Factory) -> dict:
    world = make.world()
    meeting = make.meeting(world["forum"])
    make.invite(meeting, world["organiser"])
    make.invite(meeting, world["participant"])
    held = make.meeting(world["forum"], state="held", starts_in_days=-7)
    action = make.action(world["forum"], world["organiser"], meeting_id=held)
    make.act(action, world["organiser"], to_state="accepted", note="On it.")
    make.action(world["forum"], world["participant"])
    return {**world, "meeting": meeting, "held": held, "action": action}


def _fuzz(strategy, headers: dict, codes: set[int]) -> None:
    """Run ``strategy``'s generated calls, adding each answer's status code to ``codes``."""

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        codes.add(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

    run()


def test_schemathesis_finds_no_server_error_and_no_schema_break(app: Flask, make: Factory) -> None:
    seeded = _seed(make)
    headers = {"Authorization": f"Bearer {_write_token(app, seeded['organiser'])}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    # Known ids, so the run reaches real objects as well as missing ones.
    known = {"meeting_id": seeded["meeting"], "action_id": seeded["action"], "forum_id": seeded["forum"]}
    seen: dict[str, set[int]] = {}
    for operation in operations:
        path_ids = {name: value for name, value in known.items() if "{" + name + "}" in operation.path}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for fixed in ({}, path_ids) if path_ids else ({},):
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)

                _fuzz(strategy, headers, seen.setdefault(operation.label, set()))
    # Every operation got past the token and the loader at least once (reached a real object), every
    # read answered 200 at least once, and bad input was refused with a JSON error.
    assert len(seen) == len(operations) and all(codes - {401, 404} for codes in seen.values()), seen
    assert all(200 in codes for label, codes in seen.items() if label.startswith("GET")), seen
    assert any(422 in codes for codes in seen.values()), seen
