"""Build hook: compile the pure, synchronous core with mypyc.

The compiled modules are the same Python source, type-checked and turned
into a C extension. Set HFT_PURE_PYTHON=1 to install without compiling;
the tests pass either way.
"""

import os
from pathlib import Path

from setuptools import setup

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


if os.environ.get("HFT_PURE_PYTHON") == "1":
    setup()
else:
    from mypyc.build import mypycify

    setup(ext_modules=mypycify(["--config-file=mypyc.ini", *compiled_sources()], opt_level="3"))
