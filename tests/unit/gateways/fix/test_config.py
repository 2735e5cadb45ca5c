"""The FIX sessions file: what it accepts, and a message naming the session and the problem for what it does not."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hft.config.settings import SettingsError, load_settings
from hft.gateways.fix.config import load_sessions


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sessions.toml"
    path.write_text(text)
    return path


def test_sessions_map_comp_ids_to_accounts_and_check_passwords(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"hashed").hexdigest()
    sessions = load_sessions(
        _file(
            tmp_path,
            f'[sessions.A]\naccount = 2\npassword = "plain"\n'
            f'[sessions.B]\naccount = 3\npassword_sha256 = "{digest}"\ncancel_on_disconnect = true\n',
        ),
        default_cancel_on_disconnect=False,
    )
    assert {name: (s.account, s.cancel_on_disconnect) for name, s in sessions.items()} == {
        "A": (2, False),
        "B": (3, True),
    }
    assert sessions["A"].password_matches(b"plain")
    assert not sessions["A"].password_matches(b"Plain")
    assert not sessions["A"].password_matches(None)
    assert sessions["B"].password_matches(b"hashed")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "no [sessions"),
        ('[sessions."A B"]\naccount = 1\npassword = "x"\n', "SenderCompID"),
        ('[sessions.A]\naccount = 0\npassword = "x"\n', "account"),
        ("[sessions.A]\naccount = 1\n", "exactly one of password"),
        ('[sessions.A]\naccount = 1\npassword = "x"\npassword_sha256 = "00"\n', "exactly one of password"),
        ('[sessions.A]\naccount = 1\npassword_sha256 = "zz"\n', "64 hex digits"),
        ('[sessions.A]\naccount = 1\npassword = "x"\ncolor = "red"\n', "unknown key(s) color"),
        ('[sessions.A]\naccount = 1\npassword = "x"\ncancel_on_disconnect = "yes"\n', "true or false"),
        ("sessions = 3\n", "no [sessions"),
        ("[other]\n", "unknown key(s) other"),
        ("[sessions.A\n", "not valid TOML"),
    ],
)
def test_malformed_sessions_files_are_refused_naming_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(SettingsError, match=problem.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        load_sessions(_file(tmp_path, text), default_cancel_on_disconnect=False)


def test_a_missing_sessions_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read fix_sessions_file"):
        load_sessions(tmp_path / "absent.toml", default_cancel_on_disconnect=False)


def test_fix_settings_are_read_from_the_environment_and_enabling_needs_a_sessions_file(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "HFT_FIX_ENABLED": "true",
            "HFT_FIX_SESSIONS_FILE": str(tmp_path / "s.toml"),
            "HFT_FIX_CANCEL_ON_DISCONNECT": "true",
            "HFT_FIX_COMP_ID": "VENUE",
        }
    )
    assert (settings.fix_sessions_file, settings.fix_cancel_on_disconnect, settings.fix_comp_id) == (
        tmp_path / "s.toml",
        True,
        "VENUE",
    )
    with pytest.raises(SettingsError, match="fix_sessions_file"):
        load_settings(environ={"HFT_FIX_ENABLED": "true"})
    with pytest.raises(SettingsError, match="fix_comp_id"):
        load_settings(environ={"HFT_FIX_COMP_ID": "has space"})
