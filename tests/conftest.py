"""Session-wide checks: which build of the engine the tests are exercising."""

from __future__ import annotations

import os

import pytest

from hft.domain.matching import engine


def _engine_is_compiled() -> bool:
    return not (engine.__file__ or "").endswith(".py")


def pytest_report_header() -> str:
    build = "compiled (mypyc)" if _engine_is_compiled() else "pure Python"
    return f"hft engine: {build} from {engine.__file__}"


def pytest_sessionstart(session: pytest.Session) -> None:
    expected = os.environ.get("HFT_EXPECT_COMPILED")
    if expected is not None and (expected == "1") != _engine_is_compiled():
        want = "compiled" if expected == "1" else "pure Python"
        raise pytest.UsageError(
            f"HFT_EXPECT_COMPILED={expected} but the {want} engine was not imported: {engine.__file__}"
        )
