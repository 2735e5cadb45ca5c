"""The FIX sessions file: which SenderCompIDs may log on, as which account, with which password.

```toml
[sessions.CLIENT1]
account = 2
password_sha256 = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
cancel_on_disconnect = true   # optional; else the fix_cancel_on_disconnect setting
```

``password = "..."`` may stand instead of ``password_sha256`` (for tests and
throwaway venues). Read once when the gateway starts; a malformed file stops
start-up with a message naming the problem.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from typing import Any, Final

from hft.config.settings import SettingsError, read_toml

# CompIDs go into directory names and FIX headers: keep them to a safe alphabet.
COMP_ID: Final = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
SESSION_KEYS: Final = frozenset({"account", "password", "password_sha256", "cancel_on_disconnect"})


class SessionConfig:
    """One configured session: the client's SenderCompID, its account and how its password is checked."""

    __slots__ = ("account", "cancel_on_disconnect", "comp_id", "password_digest")

    def __init__(self, comp_id: str, account: int, password_digest: bytes, cancel_on_disconnect: bool) -> None:
        self.comp_id = comp_id
        self.account = account
        self.password_digest = password_digest
        self.cancel_on_disconnect = cancel_on_disconnect

    def password_matches(self, password: bytes | None) -> bool:
        """Compare ``password`` with the configured one in constant time (None never matches)."""
        if password is None:
            return False
        return hmac.compare_digest(hashlib.sha256(password).digest(), self.password_digest)


def load_sessions(path: Path, default_cancel_on_disconnect: bool) -> dict[str, SessionConfig]:
    """Read the sessions file; return SenderCompID -> config. Raise ``SettingsError`` naming what is wrong."""
    data = read_toml(path, "fix_sessions_file")
    unknown = sorted(set(data) - {"sessions"})
    if unknown:
        raise SettingsError(f"fix_sessions_file {path}: unknown key(s) {', '.join(unknown)}")
    sessions = data.get("sessions", {})
    if not isinstance(sessions, dict) or not sessions:
        raise SettingsError(f"fix_sessions_file {path}: no [sessions.<SenderCompID>] tables")
    return {
        comp_id: _session(path, comp_id, entry, default_cancel_on_disconnect) for comp_id, entry in sessions.items()
    }


def _session(path: Path, comp_id: str, entry: Any, default_cancel_on_disconnect: bool) -> SessionConfig:
    where = f"fix_sessions_file {path}, session {comp_id!r}"
    if not COMP_ID.match(comp_id):
        raise SettingsError(f"{where}: a SenderCompID is 1 to 64 of A-Z a-z 0-9 _ . -")
    if not isinstance(entry, dict):
        raise SettingsError(f"{where}: must be a table")
    unknown = sorted(set(entry) - SESSION_KEYS)
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) {', '.join(unknown)}")
    account = entry.get("account")
    if not isinstance(account, int) or isinstance(account, bool) or account < 1:
        raise SettingsError(f"{where}: account must be a positive account id")
    password, digest = entry.get("password"), entry.get("password_sha256")
    if (password is None) == (digest is None):
        raise SettingsError(f"{where}: give exactly one of password and password_sha256")
    if password is not None:
        if not isinstance(password, str) or not password:
            raise SettingsError(f"{where}: password must be a non-empty string")
        password_digest = hashlib.sha256(password.encode()).digest()
    else:
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
            raise SettingsError(f"{where}: password_sha256 must be 64 hex digits")
        password_digest = bytes.fromhex(digest)
    cancel = entry.get("cancel_on_disconnect", default_cancel_on_disconnect)
    if not isinstance(cancel, bool):
        raise SettingsError(f"{where}: cancel_on_disconnect must be true or false")
    return SessionConfig(comp_id, account, password_digest, cancel)
