"""The `hftx` command line: help, version, errors as one clear line with a non-zero status."""

from __future__ import annotations

import subprocess
import sys

import hftx
from hftx.cli import main


def test_no_command_prints_help() -> None:
    assert main([]) == 2


def test_version() -> None:
    out = subprocess.run([sys.executable, "-m", "hftx", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"hftx {hftx.__version__}"


def test_console_script_is_installed() -> None:
    out = subprocess.run([sys.executable, "-c", "import shutil; print(shutil.which('hftx') or '')"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("hftx")


def test_unknown_command_is_an_error() -> None:
    out = subprocess.run([sys.executable, "-m", "hftx", "frobnicate"], capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert "invalid choice" in out.stderr
