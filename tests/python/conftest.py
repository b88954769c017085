from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The recorded market data, read in place (../shared/data beside the checkout)."""
    d = Path(os.environ.get("HFTX_DATA_DIR", ROOT.parent / "shared" / "data"))
    if not (d / "binance").is_dir():
        pytest.fail(f"recorded market data not found at {d}: set HFTX_DATA_DIR")
    return d
