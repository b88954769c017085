"""The _core.pyi stubs stay in step with the compiled module (mypy's stubtest), and the package is typed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hftx
from hftx import _core

HERE = Path(__file__).resolve().parent


def test_stubtest_agrees_with_the_module() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "hftx._core", "--allowlist", str(HERE / "stubtest_allowlist.txt")],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_public_name_is_in_the_stub() -> None:
    stub = (Path(hftx.__file__).parent / "_core.pyi").read_text()
    for name in dir(_core):
        if not name.startswith("_"):
            assert f"def {name}(" in stub or f"class {name}" in stub, name


def test_py_typed_ships() -> None:
    assert (Path(hftx.__file__).parent / "py.typed").exists()


def test_public_api_hides_core() -> None:
    for name in hftx.__all__:
        assert hasattr(hftx, name), name
    assert "_core" not in hftx.__all__
