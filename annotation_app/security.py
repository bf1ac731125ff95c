"""Passwords (argon2id, argon2-cffi's recommended parameters) and the user-name rule.

Both live here so that the command line (`evalkit app create-user`) and the app apply the same
rule: import `username_problems` / `username_key` from this module.
"""

from __future__ import annotations

import secrets
import unicodedata
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
USERNAME_MAX_LENGTH = 64
# Besides letters and digits of any script: what e-mail addresses (single sign-on) need.
USERNAME_PUNCTUATION = frozenset("._@+-")
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


@cache
def _dummy_hash() -> str:
    """A hash of a random secret, made with the same parameters as real ones: verifying against
    it costs what verifying a real password costs."""
    return _HASHER.hash(secrets.token_urlsafe(32))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches. An account without a password (single sign-on only) or no
    account at all is checked against a dummy hash and is False: every call performs exactly one
    argon2 verification, so the time taken does not tell whether the account exists."""
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def normalize_username(name: str) -> str:
    """The stored form of a user name: Unicode NFC (é typed as one or two code points is the
    same name)."""
    return unicodedata.normalize("NFC", name)


def username_key(name: str) -> str:
    """What makes two user names the same account: NFKC and case folding, so that "José",
    "JOSÉ" and full-width "ｊｏｓé" cannot be three accounts."""
    return unicodedata.normalize("NFKC", normalize_username(name)).casefold()


def _allowed_char(ch: str, first: bool) -> bool:
    category = unicodedata.category(ch)
    if category[0] == "L" or category == "Nd":
        return True
    return not first and (category in ("Mn", "Mc") or ch in USERNAME_PUNCTUATION)


def username_problems(name: str) -> list[str]:
    """Why `name` cannot be a user name (empty list: it can). Letters and digits of any script
    (李娜, José), combining marks, and . _ @ + - inside; no spaces or control characters anywhere
    (a trailing newline included); 1 to USERNAME_MAX_LENGTH characters."""
    name = normalize_username(name)
    if not name:
        return ["must not be empty"]
    problems = []
    if len(name) > USERNAME_MAX_LENGTH:
        problems.append(f"at most {USERNAME_MAX_LENGTH} characters (this has {len(name)})")
    bad = sorted({ch for i, ch in enumerate(name) if not _allowed_char(ch, first=i == 0)})
    if bad:
        shown = ", ".join(f"U+{ord(ch):04X} {unicodedata.name(ch, repr(ch))}" for ch in bad)
        problems.append(
            f"{name!r} has characters a user name cannot have ({shown}); use letters and "
            "digits of any script and . _ @ + - (not first)"
        )
    return problems
