"""The addresses Forum Desk answers at, and reading them back from what arrives.

``REPLY_ADDRESS`` (e.g. ``forum-desk@example.org``; empty: the sender's address) is one
mailbox. Each meeting gets a plus-address in it, ``forum-desk+m123@example.org``: mail
servers deliver plus-addresses to the mailbox itself (Postfix ``recipient_delimiter = +``,
Exchange Online, Gmail, Dovecot's LMTP), and the tag tells which meeting an answer is about
even when it carries no calendar.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from email.utils import getaddresses, parseaddr

from flask import current_app

_TAG = re.compile(r"\+m(\d{1,12})$")


def reply_address() -> str:
    """The configured reply mailbox, else the sender's own address."""
    configured = (current_app.config.get("REPLY_ADDRESS") or "").strip()
    return configured or parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]


def meeting_reply_address(meeting_id: int) -> str:
    """``local+m<id>@domain``: the ORGANIZER of the meeting's invitations and the Reply-To of its mail."""
    local, _at, domain = reply_address().rpartition("@")
    return f"{local}+m{meeting_id}@{domain}"


def normal_address(address: str) -> str:
    """An address as compared here: lower case, the domain in IDNA (``ana@šipovo.ba`` == ``ana@xn--ipovo-udb.ba``)."""
    address = address.strip().strip("<>").lower()
    if address.startswith("mailto:"):
        address = address[len("mailto:") :]
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


def _base(address: str) -> tuple[str, str]:
    """(local part without its +tags, domain), normalised."""
    local, _at, domain = normal_address(address).rpartition("@")
    return local.split("+", 1)[0], domain


def is_ours(address: str) -> bool:
    """``address`` is Forum Desk's own (the reply mailbox or the sender, with or without a tag)."""
    if not address:
        return False
    ours = {_base(reply_address()), _base(parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1])}
    return _base(address) in ours


def meeting_tag(addresses: Iterable[str]) -> int | None:
    """The meeting id tagged on the first of ``addresses`` that is our reply mailbox with a ``+m<id>`` tag."""
    mailbox = _base(reply_address())
    for address in addresses:
        local, _at, domain = normal_address(address).rpartition("@")
        match = _TAG.search(local)
        if match and (local[: match.start()].split("+", 1)[0], domain) == mailbox:
            return int(match.group(1))
    return None


def header_addresses(values: Iterable[str]) -> list[str]:
    """The addr-specs in header values such as To, Cc or Delivered-To."""
    return [address for _name, address in getaddresses([str(v) for v in values]) if "@" in address]
