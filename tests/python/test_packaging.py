"""What the installed package carries, and what a broken install says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hftx


def test_failed_core_import_says_how_to_build() -> None:
    code = "import sys; sys.modules['hftx._core'] = None\nimport hftx"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode != 0
    assert "hftx._core" in out.stderr and "./dev.sh run" in out.stderr and "pip install ." in out.stderr


def test_wheel_has_no_cpp_development_files() -> None:
    pkg = Path(hftx.__file__).parent
    site = pkg.parent
    assert not list(pkg.rglob("*.hpp")) and not list(pkg.rglob("*.a"))
    assert not (site / "include" / "hftx").exists() and not (site / "lib" / "cmake" / "hftx").exists()
    assert not (Path(sys.prefix) / "include" / "hftx").exists()
    assert not (Path(sys.prefix) / "lib" / "cmake" / "hftx").exists()


def test_benchmark_programs_ship_with_the_package() -> None:
    programs = sorted(p.name for p in (Path(hftx.__file__).parent / "_bench").iterdir())
    assert {"bench_clock", "bench_fixed_point"} <= set(programs)
