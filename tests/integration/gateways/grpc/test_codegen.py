"""Generating the gRPC modules from the .proto: when they are missing, when the .proto changed, and not otherwise."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hft.gateways.grpc.codegen import PACKAGE_ROOT, PROTO_FILES, ensure_generated, generated_files


def _tree_with_only_the_proto(root: Path) -> tuple[Path, list[Path]]:
    [proto] = PROTO_FILES
    copy = root / proto
    copy.parent.mkdir(parents=True)
    shutil.copy(PACKAGE_ROOT / proto, copy)
    return copy, [root / relative for relative in generated_files(proto)]


def test_missing_modules_are_generated_then_left_alone_while_current(tmp_path: Path) -> None:
    _, modules = _tree_with_only_the_proto(tmp_path)

    ensure_generated(tmp_path)
    first = [module.stat().st_mtime_ns for module in modules]
    ensure_generated(tmp_path)

    assert [module.name for module in modules] == ["trading_pb2.py", "trading_pb2.pyi", "trading_pb2_grpc.py"]
    assert [module.stat().st_mtime_ns for module in modules] == first
    assert "from hft.gateways.grpc.v1 import trading_pb2" in modules[2].read_text()
    assert sorted(path.name for path in modules[0].parent.iterdir()) == sorted(
        ["trading.proto", *(module.name for module in modules)]
    ), "scratch files were left behind"


def test_modules_older_than_the_proto_are_generated_again(tmp_path: Path) -> None:
    proto, modules = _tree_with_only_the_proto(tmp_path)
    ensure_generated(tmp_path)
    old = min(module.stat().st_mtime_ns for module in modules)
    edited = old + 10**9
    os.utime(proto, ns=(edited, edited))

    ensure_generated(tmp_path)

    assert all(module.stat().st_mtime_ns > old for module in modules)
