"""Settings, read from environment variables with safe defaults.

Every setting is listed in docs/configuration.md. ``FORUM_ENV`` picks the profile:
``development`` (default), ``production`` or ``testing``.
"""

from __future__ import annotations

import math
import os
import secrets
from collections import Counter
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("FORUM_INSTANCE_DIR", PROJECT_ROOT / "instance"))


# Sessions, links and device cookies are signed with SECRET_KEY: a short one can be guessed offline.
MIN_SECRET_KEY_LENGTH = 32
# ... and so can a long one made of few characters ("a" × 32, "abcabc…", "password" × 4): it needs
# at least 8 different characters and a spread of 64 bits (secret_key_bits). A random 32-character
# hex key (secrets.token_hex(16)) measures 92 bits at the lowest in 100,000 draws and has fewer than
# 8 different characters about once in 30 million; "password" × 4 has 7, "abc" × 11 measures 52.
MIN_SECRET_KEY_BITS = 64
MIN_SECRET_KEY_SYMBOLS = 8


def secret_key_bits(key: str) -> float:
    """A rough upper bound of a key's strength: its length times the Shannon entropy of its characters.

    Not a proof of randomness (a long dictionary phrase passes), but it refuses the keys people
    type by hand to get past a length rule.
    """
    if not key:
        return 0.0
    counts = Counter(key)
    spread = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return spread * len(key)


# OWASP's argon2id configurations trade memory for passes (47 MiB × 1 … 7 MiB × 5); the
# weakest of them, 7168 KiB × 5 passes, is the floor accepted in production.
OWASP_MIN_MEMORY_TIMES_PASSES = 7168 * 5


# Who must use a second factor (auth/second_factor.py): system roles "admin" and "staff", and
# "organiser" for anyone on a grant's team.
SECOND_FACTOR_ROLES = ("admin", "staff", "organiser")


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from exc


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, not {value!r}") from exc


def _roles(name: str, default: str) -> tuple[str, ...]:
    value = os.environ.get(name)
    value = default if value is None else value
    roles = tuple(sorted({part.strip().lower() for part in value.split(",") if part.strip()}))
    unknown = [role for role in roles if role not in SECOND_FACTOR_ROLES]
    if unknown:
        raise ConfigError(f"{name} may name {', '.join(SECOND_FACTOR_ROLES)}, not {', '.join(unknown)}")
    return roles


def _development_secret_key() -> str:
    """Keep one generated key in instance/ so sessions survive a restart."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config mapping for the current environment."""
    overrides = dict(overrides or {})
    env = overrides.get("FORUM_ENV") or os.environ.get("FORUM_ENV", "development")
    if env not in {"development", "production", "testing"}:
        raise ConfigError(f"FORUM_ENV must be development, production or testing, not {env!r}")

    base_url = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    secret_key = os.environ.get("SECRET_KEY", "")
    if not secret_key and "SECRET_KEY" not in overrides:
        if env == "production":
            raise ConfigError("SECRET_KEY must be set in production (FORUM_ENV=production).")
        secret_key = _development_secret_key() if env == "development" else secrets.token_urlsafe(32)

    default_db = f"sqlite:///{INSTANCE_DIR / 'forum.db'}"
    config: dict = {
        "FORUM_ENV": env,
        "TESTING": env == "testing",
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BASE_URL": base_url,
        # Mail: the outbox worker delivers through this server.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "Forum Desk <forum-desk@localhost>"),
        # Development without a MAIL_SERVER keeps every email in the outbox (readable at /outbox)
        # instead of sending it; production and tests deliver.
        "MAIL_DELIVERY": bool(os.environ.get("MAIL_SERVER")) or env != "development",
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 20),
        # Attempts before a message the server keeps refusing for now (4xx) is marked failed.
        # An unreachable server never uses them up: its messages wait, growing delays up to 30 minutes.
        "MAIL_MAX_ATTEMPTS": _int("MAIL_MAX_ATTEMPTS", 8),
        # Mail that comes back (forum_app/inbound): invitations name a plus-address of this mailbox
        # (forum-desk+m123@…) as ORGANIZER and Reply-To; empty means the sender's own address, so the
        # calendar answers and the bounces (which go to the sender) land in one mailbox.
        "REPLY_ADDRESS": os.environ.get("REPLY_ADDRESS", "").strip(),
        # Where `flask forum mail fetch` reads it: imap://user:password@host:143/INBOX (STARTTLS when the
        # server offers it) or imaps://…:993/INBOX. Empty: only `flask forum mail receive` (a pipe).
        "IMAP_URL": os.environ.get("IMAP_URL") or None,
        # A message larger than this is kept as its headers alone and not acted on.
        "INBOUND_MAX_BYTES": _int("INBOUND_MAX_BYTES", 5 * 1024 * 1024),
        # Received messages (raw) are deleted after this many days (`flask forum mail purge-received`,
        # and the fetch loop once an hour).
        "INBOUND_RETENTION_DAYS": _int("INBOUND_RETENTION_DAYS", 90),
        # People with no sign-in, invitation, answer, membership or writing for this many days are
        # pseudonymised by `flask forum retention apply` (people.retention; 3 years by default).
        "RETENTION_INACTIVE_DAYS": _int("RETENTION_INACTIVE_DAYS", 3 * 365),
        # Optional: share login throttling counters through Redis instead of the database.
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Sessions: an idle and an absolute lifetime, both enforced on the server.
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 120),
        "SESSION_ABSOLUTE_HOURS": _int("SESSION_ABSOLUTE_HOURS", 12),
        # How stale a session's "last used" (on the account page) may be: it is written at most
        # this often per session, so reading pages does not write on every request.
        "SESSION_LAST_SEEN_MINUTES": _int("SESSION_LAST_SEEN_MINUTES", 15),
        "SESSION_COOKIE_NAME": "forum_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "REMEMBER_COOKIE_HTTPONLY": True,
        # Links in emails.
        "SET_PASSWORD_LINK_HOURS": _int("SET_PASSWORD_LINK_HOURS", 72),
        "RESET_PASSWORD_LINK_HOURS": _int("RESET_PASSWORD_LINK_HOURS", 2),
        # The "stop these emails" link of reminders and notices (List-Unsubscribe): long, since
        # a person may act on a months-old reminder, and it can only turn one kind of email off.
        "UNSUBSCRIBE_LINK_DAYS": _int("UNSUBSCRIBE_LINK_DAYS", 365),
        # Password guessing: failures allowed before backing off; past the limit each
        # failure doubles the wait, from the first to the longest; a quiet counter is
        # forgotten after some hours. Known devices and addresses have their own counter.
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": _int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        "LOGIN_BACKOFF_FIRST_MINUTES": _int("LOGIN_BACKOFF_FIRST_MINUTES", 1),
        "LOGIN_BACKOFF_MAX_MINUTES": _int("LOGIN_BACKOFF_MAX_MINUTES", 60),
        "LOGIN_FAILURES_FORGOTTEN_HOURS": _int("LOGIN_FAILURES_FORGOTTEN_HOURS", 24),
        "LOGIN_DEVICE_COOKIE_DAYS": _int("LOGIN_DEVICE_COOKIE_DAYS", 180),
        "LOGIN_KNOWN_ADDRESS_DAYS": _int("LOGIN_KNOWN_ADDRESS_DAYS", 90),
        # Second factor (TOTP): the roles that must use one; anyone else may. On in production.
        # Off by default in development (the demo signs in with its shared password) and in tests
        # (each test of the second factor turns it on for itself): docs/security.md says why.
        "SECOND_FACTOR_REQUIRED_ROLES": _roles(
            "SECOND_FACTOR_REQUIRED_ROLES", ",".join(SECOND_FACTOR_ROLES) if env == "production" else ""
        ),
        # How long the step between the password and the second factor (or enrolment) may take.
        "SECOND_FACTOR_PENDING_MINUTES": _int("SECOND_FACTOR_PENDING_MINUTES", 10),
        # The name authenticator apps show next to the account.
        "SECOND_FACTOR_ISSUER": os.environ.get("SECOND_FACTOR_ISSUER", "Forum Desk"),
        # Changing the password or the second factor asks for them again when the person last
        # proved who they are longer ago than this (auth/reauth.py).
        "REAUTH_MINUTES": _int("REAUTH_MINUTES", 10),
        # Password-reset emails one account or one address may ask for before backing off.
        "RESET_MAX_REQUESTS_PER_ACCOUNT": _int("RESET_MAX_REQUESTS_PER_ACCOUNT", 3),
        "RESET_MAX_REQUESTS_PER_ADDRESS": _int("RESET_MAX_REQUESTS_PER_ADDRESS", 10),
        # Request bodies larger than this are refused with 413.
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 2 * 1024 * 1024),
        # Meeting and forum documents (forum_app/documents): the largest file accepted, and where files are
        # kept, outside the web root. Only the upload routes accept bodies this large (documents.views).
        "DOCUMENTS_MAX_BYTES": _int("DOCUMENTS_MAX_BYTES", 20 * 1024 * 1024),
        "DOCUMENTS_DIR": os.environ.get("DOCUMENTS_DIR")
        or str(Path(os.environ.get("FORUM_INSTANCE_DIR", INSTANCE_DIR)) / "documents"),
        # An S3-compatible bucket instead of the folder, when a bucket is named (documents.storage).
        "DOCUMENTS_S3_BUCKET": os.environ.get("DOCUMENTS_S3_BUCKET") or None,
        "DOCUMENTS_S3_PREFIX": os.environ.get("DOCUMENTS_S3_PREFIX", ""),
        "DOCUMENTS_S3_ENDPOINT_URL": os.environ.get("DOCUMENTS_S3_ENDPOINT_URL") or None,
        "DOCUMENTS_S3_REGION": os.environ.get("DOCUMENTS_S3_REGION") or None,
        "DOCUMENTS_S3_ACCESS_KEY_ID": os.environ.get("DOCUMENTS_S3_ACCESS_KEY_ID") or None,
        "DOCUMENTS_S3_SECRET_ACCESS_KEY": os.environ.get("DOCUMENTS_S3_SECRET_ACCESS_KEY") or None,
        # Number of proxies in front of the app that set X-Forwarded-* (0: none).
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        # Pages send "Referrer-Policy: no-referrer", so browsers send no Referer (and
        # "Origin: null") with form posts; Flask-WTF's https-only Referer check would
        # refuse every form. The session-bound CSRF token and SameSite=Lax remain, and
        # the __Host- cookie prefix stops the cookie-planting that check guarded against.
        "WTF_CSRF_SSL_STRICT": False,
        # British English, as the texts are written: CLDR's plain "en" is American ("Jun 30, 2021, 10:00 AM").
        "BABEL_DEFAULT_LOCALE": "en_GB",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "PAGE_SIZE": _int("PAGE_SIZE", 25),
        # The dashboard's figures are cached (data, never HTML: reports/dashboard.py) for this long;
        # the page says how old they are and Refresh counts them again.
        "REPORT_CACHE_SECONDS": _int("REPORT_CACHE_SECONDS", 15 * 60),
        # "Download PDF" (WeasyPrint, core/pdf.py); off: the printable pages only, their button says so.
        "PDF_RENDERING": _bool("PDF_RENDERING", True),
        # Flask-Caching: Redis when REDIS_URL is set, so every node and worker shares one copy of the
        # figures; otherwise each process keeps its own, at most CACHE_THRESHOLD entries of them (a
        # programme-wide entry is about 120 KiB pickled at 120 forums).
        "CACHE_TYPE": "RedisCache" if os.environ.get("REDIS_URL") else "SimpleCache",
        "CACHE_REDIS_URL": os.environ.get("REDIS_URL") or None,
        "CACHE_KEY_PREFIX": "forum-desk:",
        "CACHE_THRESHOLD": _int("CACHE_THRESHOLD", 50),
        # Markdown is rendered when saved, in a subprocess killed after this many seconds;
        # longer sources are refused before rendering.
        "MARKDOWN_RENDER_SECONDS": _float("MARKDOWN_RENDER_SECONDS", 2.0),
        "MARKDOWN_MAX_CHARS": _int("MARKDOWN_MAX_CHARS", 100_000),
        # argon2id cost (OWASP: 7 MiB, 5 passes, 1 lane; why in auth/passwords.py); hashes made
        # with other parameters are re-hashed at the next successful login.
        "PASSWORD_HASH_TIME_COST": _int("PASSWORD_HASH_TIME_COST", 5),
        "PASSWORD_HASH_MEMORY_KIB": _int("PASSWORD_HASH_MEMORY_KIB", 7 * 1024),
        "PASSWORD_HASH_PARALLELISM": _int("PASSWORD_HASH_PARALLELISM", 1),
    }
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    if env == "testing":
        config["WTF_CSRF_ENABLED"] = True
        # Every test sees the database as it is, as in Indico and GOV.UK Notify: the one test of the
        # cache turns it on for itself (tests/test_reports.py).
        config["CACHE_TYPE"] = "NullCache"
        config["CACHE_NO_NULL_WARNING"] = True
        config["MAIL_SUPPRESS_SEND"] = False
    config.update(overrides)
    if config["SESSION_COOKIE_SECURE"] and "SESSION_COOKIE_NAME" not in overrides:
        # The __Host- prefix: the browser keeps the cookie only if it is Secure, has
        # Path=/ and no Domain, so a sibling subdomain cannot plant or overwrite it.
        config["SESSION_COOKIE_NAME"] = "__Host-forum_session"
    documents = Path(config["DOCUMENTS_DIR"]).resolve()
    if documents == PROJECT_ROOT.resolve() or documents.is_relative_to((PROJECT_ROOT / "static").resolve()):
        # Files there would be served as they are, to anyone, past every permission check and header.
        raise ConfigError("DOCUMENTS_DIR must be outside the web root (static/) and not the project folder itself.")
    if env == "production" and len(config["SECRET_KEY"]) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters in production "
            "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    if env == "production" and (
        secret_key_bits(config["SECRET_KEY"]) < MIN_SECRET_KEY_BITS
        or len(set(config["SECRET_KEY"])) < MIN_SECRET_KEY_SYMBOLS
    ):
        raise ConfigError(
            "SECRET_KEY is long enough but too predictable (repeated or few different characters) "
            "for production: use a random one (python3 -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    if (
        env == "production"
        and config["PASSWORD_HASH_MEMORY_KIB"] * config["PASSWORD_HASH_TIME_COST"] < OWASP_MIN_MEMORY_TIMES_PASSES
    ):
        raise ConfigError(
            "PASSWORD_HASH_MEMORY_KIB × PASSWORD_HASH_TIME_COST is below OWASP's argon2id minimum "
            "(e.g. 19456 KiB × 2, or 7168 KiB × 5)."
        )
    return config
