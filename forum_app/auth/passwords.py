"""Password hashing (argon2id) and the password rules."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

# argon2 hashes the whole password (no 72-byte bcrypt truncation), so a long Cyrillic
# passphrase counts in full. The maximum only keeps hashing cheap enough to not be a
# denial-of-service lever.
MIN_LENGTH = 10
MAX_LENGTH = 256

# 49,233 passwords people actually chose, most common first in the source: zxcvbn's list,
# built from leaked password corpora (RockYou, Xato's ten million, …), from the npm package
# @zxcvbn-ts/language-common 4.1.3 (MIT; see common_passwords.md). Lower-cased, one a line.
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt.gz")
# A common word dressed up with a few digits or signs ("sarajevo2024!", "2021monkey") is as
# guessable as the word: crackers try exactly those.
_DRESSING = re.compile(r"^[\W\d_]{0,6}(.*?)[\W\d_]{0,6}$")

# One of OWASP's argon2id configurations (Password Storage Cheat Sheet): 7 MiB of memory,
# 5 passes, 1 lane. OWASP lists five (46 MiB × 1 … 19 MiB × 2 … 7 MiB × 5) that "provide an
# equal level of defense, and the only difference is a trade off between CPU and RAM usage";
# a web worker is short of RAM, and the smallest block is the least a worker holds on to (or,
# where malloc maps the block fresh each time, the fewest page faults, one per 4 KiB): 19 MiB × 2
# verified in 46 ms on the benchmark machine, 7 MiB × 5 in 28 ms, a login rate above 15 a second
# per worker. The library's defaults (64 MiB, 3 passes, 4 lanes) cost 300–700 ms a login on a
# shared 2-core server. These are overridable (PASSWORD_HASH_* in the config); a stored hash made with
# other parameters is re-hashed at the next successful login.
DEFAULT_TIME_COST = 5
DEFAULT_MEMORY_KIB = 7 * 1024
DEFAULT_PARALLELISM = 1


@lru_cache(maxsize=8)
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID)
    # Verified when the account does not exist, so a missing account takes as long as a
    # wrong password: made with the same parameters as real hashes.
    return hasher, hasher.hash("not a real password, only for timing")


def parameters() -> tuple[int, int, int]:
    """(time cost, memory in KiB, parallelism) from the app's config, else the defaults."""
    config = current_app.config if has_app_context() else {}
    return (
        int(config.get("PASSWORD_HASH_TIME_COST", DEFAULT_TIME_COST)),
        int(config.get("PASSWORD_HASH_MEMORY_KIB", DEFAULT_MEMORY_KIB)),
        int(config.get("PASSWORD_HASH_PARALLELISM", DEFAULT_PARALLELISM)),
    )


def _hasher() -> tuple[PasswordHasher, str]:
    return _hasher_for(*parameters())


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    hasher, dummy = _hasher()
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters (or another variant) than configured."""
    try:
        return _hasher()[0].check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as f:
        return frozenset(line for line in f.read().split("\n") if line)


def is_guessable(password: str, context: Iterable[str] = ()) -> bool:
    """True for a password found in leaked-password lists, such a word with digits or signs
    around it, one or two characters repeated, or one built on the person's own name or address
    (``context``)."""
    folded = password.strip().casefold()
    common = common_passwords()
    if folded in common or len(set(folded)) <= 2:
        return True
    core = _DRESSING.match(folded)
    if core and len(core.group(1)) >= 4 and (core.group(1) in common or len(set(core.group(1))) <= 2):
        return True
    squeezed = re.sub(r"[\W_]+", "", folded)
    for value in context:
        for part in re.split(r"[\W_]+", value.casefold()):
            if len(part) >= 4 and part in squeezed and len(squeezed) - len(part) <= 6:
                return True
    return False
