"""Generate the Python modules of the gRPC API from its ``.proto`` files; they are not kept in git.

Three ways in, one implementation:

- installing the package (``pip install .``, ``make install``): ``setup.py`` loads this file by path and writes
  the modules into the build, so the wheel carries them and needs no code generator at run time;
- a source checkout (``PYTHONPATH=src``): importing ``hft.gateways.grpc.v1`` calls ``ensure_generated``, which
  writes them next to the ``.proto`` when they are missing or older than it (``grpc_tools`` is a dev dependency);
- by hand: ``python -m hft.gateways.grpc.codegen`` (``make proto``) regenerates them in the source tree.

This module imports nothing from ``hft``: ``setup.py`` runs it before the package is installed.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Final

# The directory that holds the ``hft`` package: ``src/`` in a checkout, ``site-packages/`` once installed.
PACKAGE_ROOT: Final = Path(__file__).resolve().parents[3]
# Relative to PACKAGE_ROOT, which is also protoc's include path: the generated modules import each other as
# ``hft.gateways.grpc.v1.*``, with no rewriting.
PROTO_FILES: Final = ("hft/gateways/grpc/v1/trading.proto",)
GENERATED_SUFFIXES: Final = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


class CodeGenerationError(ImportError):
    """The gRPC modules are missing and cannot be generated here; the message says what to install."""


def generated_files(proto: str) -> list[str]:
    """Return the paths (relative to the package root) of the modules generated from ``proto``."""
    stem = proto.removesuffix(".proto")
    return [stem + suffix for suffix in GENERATED_SUFFIXES]


def generate(source_root: Path, output_root: Path) -> list[Path]:
    """Run protoc on every ``.proto`` under ``source_root``; write the modules under ``output_root``; return them.

    Each file is written to a scratch directory beside its destination, then renamed into place, so a process
    importing the modules at the same moment never reads half a file. Costs about 0.3 s.
    """
    if find_spec("grpc_tools") is None:
        raise CodeGenerationError(
            "the gRPC modules are not generated and grpc_tools is not installed: install the dev dependencies "
            "(make install, or pip install grpcio-tools) or install the package (its wheel carries the modules)"
        )
    # A build and dev tool, not a run-time dependency (and untyped).
    from grpc_tools import protoc  # type: ignore[import-untyped]  # noqa: PLC0415

    well_known_types = resources.files("grpc_tools") / "_proto"
    written: list[Path] = []
    for proto in PROTO_FILES:
        destination = (output_root / proto).parent
        destination.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=destination, prefix=".protoc-") as scratch:
            arguments = [
                "grpc_tools.protoc",
                f"--proto_path={source_root}",
                f"--proto_path={well_known_types}",
                f"--python_out={scratch}",
                f"--pyi_out={scratch}",
                f"--grpc_python_out={scratch}",
                proto,
            ]
            if protoc.main(arguments) != 0:
                raise RuntimeError(f"protoc failed on {source_root / proto} (its errors are above)")
            for relative in generated_files(proto):
                target = output_root / relative
                os.replace(Path(scratch) / relative, target)
                written.append(target)
    return written


def ensure_generated(root: Path = PACKAGE_ROOT) -> None:
    """Generate the modules under ``root`` if any is missing, or older than its ``.proto`` when protoc is at hand.

    Costs a few ``stat`` calls when they are current. Where ``grpc_tools`` is missing or the directory is
    read-only (an installed package, whose wheel carries the modules) present modules are used as they are;
    missing ones raise ``CodeGenerationError``.
    """
    for proto in PROTO_FILES:
        source = root / proto
        if not source.exists():
            continue
        stamps = [_modified(root / relative) for relative in generated_files(proto)]
        if None in stamps:
            generate(root, root)
        elif min(stamp or 0 for stamp in stamps) < source.stat().st_mtime_ns and find_spec("grpc_tools") is not None:
            # Out of date by the clock; where the files cannot be replaced (a read-only install) they still work.
            with contextlib.suppress(OSError):
                generate(root, root)


def _modified(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


if __name__ == "__main__":
    for path in generate(PACKAGE_ROOT, PACKAGE_ROOT):
        print(f"generated {path}", file=sys.stderr)
