"""Service settings: defaults < TOML file < environment < flags; unknown names and malformed values are errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import msgspec
import pytest

from hft.config.settings import Settings, SettingsError, load_settings


def _file(tmp_path: Path, text: str, name: str = "hft.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_apply_when_nothing_is_set() -> None:
    settings = load_settings(environ={})

    assert settings == Settings()
    assert (settings.host, settings.port, settings.data_dir) == ("127.0.0.1", 8000, Path("data"))
    assert settings.demo_account is True
    assert settings.fsync is True
    assert settings.admin_token is None
    assert settings.resolved_database_url == "sqlite:///data/hft.sqlite3"


def test_file_beats_defaults_environment_beats_file_flags_beat_environment(tmp_path: Path) -> None:
    config = _file(tmp_path, 'port = 9000\nhost = "0.0.0.0"\nrate_limit = 5\nlog_level = "debug"\n')
    environ = {"HFT_PORT": "9100", "HFT_RATE_LIMIT": "7"}

    from_file = load_settings(config, environ={})
    from_environment = load_settings(config, environ=environ)
    from_flags = load_settings(config, environ=environ, overrides={"port": 9200, "host": None})

    assert (from_file.port, from_file.host, from_file.rate_limit, from_file.log_level) == (9000, "0.0.0.0", 5, "debug")
    assert (from_environment.port, from_environment.rate_limit, from_environment.host) == (9100, 7, "0.0.0.0")
    assert (from_flags.port, from_flags.host, from_flags.rate_limit) == (9200, "0.0.0.0", 7)


def test_config_file_can_come_from_hft_config_and_the_flag_wins(tmp_path: Path) -> None:
    named_by_environment = _file(tmp_path, "port = 9001\n", "environment.toml")
    named_by_flag = _file(tmp_path, "port = 9002\n", "flag.toml")
    environ = {"HFT_CONFIG": str(named_by_environment)}

    assert load_settings(environ=environ).port == 9001
    assert load_settings(named_by_flag, environ=environ).port == 9002


def test_environment_values_are_parsed_to_their_types() -> None:
    settings = load_settings(
        environ={
            "HFT_FSYNC": "false",
            "HFT_DEMO_ACCOUNT": "0",
            "HFT_WS_HEARTBEAT_SECONDS": "0.5",
            "HFT_SNAPSHOT_EVERY": "250",
            "HFT_ADMIN_TOKEN": "a-long-enough-admin-token",
        }
    )

    assert settings.fsync is False
    assert settings.demo_account is False
    assert settings.ws_heartbeat_seconds == 0.5
    assert settings.snapshot_every == 250
    assert settings.admin_token == "a-long-enough-admin-token"


def test_data_dir_can_be_set_in_the_file_and_in_the_environment(tmp_path: Path) -> None:
    # docs/configuration.md's example hft.toml sets data_dir = "/var/lib/hft".
    from_file = load_settings(_file(tmp_path, f'data_dir = "{tmp_path / "from-file"}"\n'), environ={})
    from_environment = load_settings(environ={"HFT_DATA_DIR": str(tmp_path / "from-environment")})

    assert from_file.data_dir == tmp_path / "from-file"
    assert from_environment.data_dir == tmp_path / "from-environment"
    assert from_environment.resolved_database_url == f"sqlite:///{tmp_path / 'from-environment' / 'hft.sqlite3'}"


def test_data_dir_from_a_flag_is_a_path() -> None:
    settings = load_settings(environ={}, overrides={"data_dir": Path("/srv/hft")})

    assert settings.data_dir == Path("/srv/hft")
    assert settings.resolved_database_url == "sqlite:////srv/hft/hft.sqlite3"


def test_variables_outside_the_prefix_and_the_ones_other_parts_read_are_ignored() -> None:
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "HFTX_PORT": "1",
        "HFT_CRASH_AT": "journal",
        "HFT_EXPECT_COMPILED": "1",
        "HFT_CRASH_KILLS": "10",
    }

    assert load_settings(environ=environ) == Settings()


def test_database_url_fills_the_database_url_setting() -> None:
    url = "postgresql://hft:secret@localhost:5432/hft"

    settings = load_settings(environ={"DATABASE_URL": url})

    assert settings.database_url == settings.resolved_database_url == url
    assert load_settings(environ={"HFT_DATABASE_URL": url}).database_url == url


def test_database_url_and_hft_database_url_give_one_answer_whatever_their_order() -> None:
    generic, specific = "postgresql://generic/db", "postgresql://specific/db"

    one_way = load_settings(environ={"DATABASE_URL": generic, "HFT_DATABASE_URL": specific})
    other_way = load_settings(environ={"HFT_DATABASE_URL": specific, "DATABASE_URL": generic})

    assert one_way.database_url == other_way.database_url


@pytest.mark.parametrize("name", ["HFT_FOO", "HFT_PROT", "HFT_port_number", "HFT_"])
def test_unknown_environment_variable_is_an_error_naming_it(name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(environ={name: "1"})


def test_unknown_keys_in_the_file_are_an_error_naming_them(tmp_path: Path) -> None:
    config = _file(tmp_path, 'prot = 9000\ncolour = "red"\n[server]\nport = 1\n')

    with pytest.raises(SettingsError) as raised:
        load_settings(config, environ={})

    message = str(raised.value)
    assert all(name in message for name in ("prot", "colour", "server", str(config)))


def test_file_that_is_not_toml_is_an_error_naming_it(tmp_path: Path) -> None:
    config = _file(tmp_path, "port = \n")

    with pytest.raises(SettingsError, match="not valid TOML") as raised:
        load_settings(config, environ={})

    assert str(config) in str(raised.value)


def test_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"

    with pytest.raises(SettingsError) as raised:
        load_settings(missing, environ={})

    assert str(missing) in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("HFT_PORT", "abc", "port"),
        ("HFT_PORT", "70000", "port"),
        ("HFT_PORT", "-1", "port"),
        ("HFT_FSYNC", "maybe", "fsync"),
        ("HFT_SNAPSHOT_EVERY", "0", "snapshot_every"),
        ("HFT_RATE_LIMIT", "-5", "rate_limit"),
        ("HFT_MAX_BODY_BYTES", "100", "max_body_bytes"),
        ("HFT_SIGNATURE_WINDOW_SECONDS", "301", "signature_window_seconds"),
        ("HFT_WS_MAX_QUEUE", "5", "ws_max_queue"),
        ("HFT_WS_HEARTBEAT_SECONDS", "0", "ws_heartbeat_seconds"),
        ("HFT_WS_HEARTBEAT_SECONDS", "nan", "ws_heartbeat_seconds"),
        ("HFT_LOG_LEVEL", "loud", "log_level"),
        ("HFT_ADMIN_TOKEN", "short", "admin_token"),
        ("DATABASE_URL", "mysql://localhost/hft", "database_url"),
    ],
)
def test_malformed_value_is_an_error_naming_the_setting(name: str, value: str, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ={name: value})


@pytest.mark.parametrize(
    ("text", "named"),
    [('port = "eighty"', "port"), ("port = 80.5", "port"), ("fsync = 3", "fsync"), ("data_dir = 5", "data_dir")],
)
def test_malformed_value_in_the_file_is_an_error_naming_the_setting(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(_file(tmp_path, text + "\n"), environ={})


def test_malformed_environment_value_is_an_error_even_when_a_flag_sets_the_same_setting() -> None:
    # docs/configuration.md: every value is validated; a malformed one stops start-up with a message naming it.
    with pytest.raises(SettingsError, match="port"):
        load_settings(environ={"HFT_PORT": "abc"}, overrides={"port": 8001})


def test_settings_are_frozen() -> None:
    settings = load_settings(environ={})

    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]
    assert not dataclasses.is_dataclass(settings)
    assert msgspec.structs.asdict(settings)["port"] == 8000
