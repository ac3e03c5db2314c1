"""A real IMAP server on loopback for the inbound mail tests: Debian's Dovecot (package dovecot-imapd),
started by the tests in a temporary directory with a configuration of its own (no system service, no
root login: one passwd-file user, Maildir in the directory, a free port on 127.0.0.1)."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from .mailserver import free_port

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "desk", "desk-password"


def require_dovecot() -> None:
    if not Path(DOVECOT).exists():
        message = f"{DOVECOT} is missing (Debian package 'dovecot-imapd')"
        if os.environ.get("CI"):
            pytest.fail(message + ": CI must install it, the IMAP tests may not skip there")
        pytest.skip(message)


class ImapServer:
    def __init__(self) -> None:
        # Not pytest's tmp_path: Dovecot's login processes run as its unprivileged users and must reach
        # the sockets here, which pytest's 0700 directories would hide from them.
        self.dir = Path(tempfile.mkdtemp(prefix="forum-desk-imap-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/INBOX"

    def _config(self) -> str:
        if os.geteuid() == 0:
            # As root Dovecot refuses to run its login processes or mail access as root: its own users
            # (made by the package) and nobody's for the Maildir.
            login_user, internal_user = "dovenull", "dovecot"
            mail_user = pwd.getpwnam("nobody")
            mail_uid, mail_gid = mail_user.pw_uid, mail_user.pw_gid
        else:
            login_user = internal_user = pwd.getpwuid(os.geteuid()).pw_name
            mail_uid, mail_gid = os.geteuid(), os.getegid()
        mail = self.dir / "mail"
        mail.mkdir()
        os.chown(mail, mail_uid, mail_gid)
        (self.dir / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::{mail}/{USER}::\n")
        return f"""
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
mail_uid = {mail_uid}
mail_gid = {mail_gid}
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.dir}/users
}}
userdb {{
  driver = static
  args = home={mail}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""

    def start(self) -> ImapServer:
        require_dovecot()
        config = self.dir / "dovecot.conf"
        config.write_text(self._config())
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                self.client().logout()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.dir / "dovecot.log").read_text() if (self.dir / "dovecot.log").exists() else ""
                    self.stop()
                    raise RuntimeError(f"Dovecot did not start:\n{log}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(USER, PASSWORD)
        return imap

    def append(self, raw: bytes) -> None:
        """Put a message in the INBOX as a mail server would deliver it (IMAP APPEND)."""
        imap = self.client()
        try:
            status, data = imap.append("INBOX", None, None, raw)
            assert status == "OK", data
        finally:
            imap.logout()

    def count(self) -> int:
        imap = self.client()
        try:
            status, data = imap.select("INBOX")
            assert status == "OK", data
            return int(data[0])
        finally:
            imap.logout()

    def empty(self) -> None:
        imap = self.client()
        try:
            imap.select("INBOX")
            if self._has_messages(imap):
                imap.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                imap.expunge()
        finally:
            imap.logout()

    @staticmethod
    def _has_messages(imap: imaplib.IMAP4) -> bool:
        status, data = imap.search(None, "ALL")
        return status == "OK" and bool(data and data[0])
