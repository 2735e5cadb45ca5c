"""Build hooks: compile the pure, synchronous core with mypyc; generate the gRPC modules from their .proto.

The compiled modules are the same Python source, type-checked and turned
into a C extension. Set HFT_PURE_PYTHON=1 to install without compiling;
the tests pass either way. The gRPC modules are not in git: every build
writes them into the package (src/hft/gateways/grpc/codegen.py).
"""

import importlib.util
import os
from pathlib import Path
from types import ModuleType

from setuptools import setup
from setuptools.command.build_py import build_py

COMPILED_PACKAGES = ["hft/core", "hft/domain", "hft/domain/book", "hft/domain/matching", "hft/domain/exchange"]
COMPILED_MODULES = [
    "hft/bench/loops.py",
    "hft/engine/codec.py",
    "hft/engine/core.py",
    "hft/engine/journal.py",
    "hft/engine/recovery.py",
]


def compiled_sources() -> list[str]:
    sources = [str(path) for package in COMPILED_PACKAGES for path in sorted(Path("src", package).glob("*.py"))]
    return sources + [str(Path("src", module)) for module in COMPILED_MODULES]


def load_codegen() -> ModuleType:
    # By path: the hft package is not importable while it is being built.
    path = Path("src", "hft", "gateways", "grpc", "codegen.py")
    spec = importlib.util.spec_from_file_location("hft_grpc_codegen", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithGrpc(build_py):
    """Copy the package into the build, then generate the gRPC modules there from the .proto files."""

    def run(self) -> None:
        super().run()
        if not self.dry_run:
            load_codegen().generate(Path("src"), Path(self.build_lib))


COMMANDS = {"build_py": BuildPyWithGrpc}

if os.environ.get("HFT_PURE_PYTHON") == "1":
    setup(cmdclass=COMMANDS)
else:
    from mypyc.build import mypycify

    setup(cmdclass=COMMANDS, ext_modules=mypycify(["--config-file=mypyc.ini", *compiled_sources()], opt_level="3"))
