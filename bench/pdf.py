"""Time the server's PDFs (programme report, sign-in sheet) on a prepared database.

    DATABASE_URL=sqlite:////tmp/gen.db .venv/bin/python -m bench.pdf EMAIL PASSWORD [--profile] [--runs N]

The database is one ``flask forum seed-demo`` or ``flask forum generate --scale N`` filled
(docs/operations.md, "PDF"). Prints, per document, its pages and the seconds each run took
(the first run includes WeasyPrint's import and the font set-up).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

from pypdf import PdfReader
from sqlalchemy import select

from forum_app import create_app
from forum_app.extensions import db
from forum_app.models import Meeting


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("email")
    parser.add_argument("password")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile each document's last run")
    parser.add_argument("--sort", default="cumulative", help="the profile's order (cumulative, tottime, …)")
    parser.add_argument("--only", default="", help="only the paths that contain this")
    args = parser.parse_args()
    app = create_app({"WTF_CSRF_ENABLED": False}, migrations=False)
    client = app.test_client()
    response = client.post("/login", data={"email": args.email, "password": args.password})
    assert response.status_code == 302, "login failed"
    with app.app_context():
        meeting = db.session.execute(select(Meeting.id).order_by(Meeting.id)).scalars().first()
    for path in ("/reports/programme.pdf", f"/meetings/{meeting}/sign-in.pdf"):
        if args.only not in path:
            continue
        for run in range(args.runs):
            profile = cProfile.Profile() if args.profile and run == args.runs - 1 else None
            started = time.perf_counter()
            if profile:
                profile.enable()
            response = client.get(path)
            if profile:
                profile.disable()
            seconds = time.perf_counter() - started
            assert response.status_code == 200, response.status_code
            pages = len(PdfReader(io.BytesIO(response.data)).pages)
            print(f"{path}: {pages} pages, {seconds:.2f} s (run {run + 1})", flush=True)
            if profile:
                pstats.Stats(profile).sort_stats(args.sort).print_stats(35)


if __name__ == "__main__":
    main()
