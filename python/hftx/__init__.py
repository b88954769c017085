"""hftx: a low-latency trading engine toolkit — C++20 core, Python control plane.

The compiled core lives in ``hftx._core``; use the names exported here, not ``_core`` directly.
"""

from __future__ import annotations

try:
    from hftx import _core
except ImportError as exc:  # pragma: no cover - exercised only on a broken install
    raise ImportError(
        "hftx's compiled core (hftx._core) could not be imported: "
        f"{exc}.\nBuild and install it from the repository root with `./dev.sh run` "
        "(installs the system packages, a virtual environment and hftx), or `pip install .` "
        "once the Debian packages listed in README.md are installed."
    ) from exc

from hftx._core import (
    ConfigError,
    ConnectionClosedError,
    ConnectionError,
    HandshakeError,
    HftxError,
    LatencyHistogram,
    LatencyTracker,
    OrderBook,
    ParseError,
    Scale,
    Simulator,
    SystemError,
    TlsError,
    WsClient,
    WsServer,
)
from hftx.config import Config, load_config
from hftx.replay import replay, replay_lines
from hftx.session import Session, SessionStats
from hftx.strategy import Strategy
from hftx.sysinfo import sysinfo
from hftx.venue import venues

__version__: str = _core.__version__

__all__ = [
    "Config",
    "ConfigError",
    "ConnectionClosedError",
    "ConnectionError",
    "HandshakeError",
    "HftxError",
    "LatencyHistogram",
    "LatencyTracker",
    "OrderBook",
    "ParseError",
    "Scale",
    "Session",
    "SessionStats",
    "Simulator",
    "Strategy",
    "SystemError",
    "TlsError",
    "WsClient",
    "WsServer",
    "__version__",
    "load_config",
    "replay",
    "replay_lines",
    "sysinfo",
    "venues",
]
