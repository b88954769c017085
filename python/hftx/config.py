"""Session configuration: YAML → a frozen, validated :class:`Config` → the plain dict the C++ session takes.

``load_config(path_or_dict)`` checks everything at once and raises one :class:`hftx.ConfigError` whose message
lists every problem — the key path (``risk.max_order_qty``, ``strategies[1].type``), the value, what was
expected, the file and the line. The exception carries them as ``exc.problems`` (a tuple of :class:`Problem`).

The schema (pydantic v2, strict types, unknown keys are errors) is the one of the session contract; every key has a
default, so the seed's ``hft:`` block alone is a complete configuration. Relative paths in
``simulator.replay_files`` are resolved against the directory of the config file (``$VARS`` and ``~`` expand
first); ``report.dir`` is an output and is relative to the working directory.

``Config.to_core()`` is the normalised dict (every key present, numbers as int/float, decimal steps and prices
as strings) that ``hftx._core.Session`` takes; ``Config.hash()`` is the SHA-256 of its canonical JSON without the
Python-only ``metrics`` and ``report`` blocks, so comments, key order and where the report goes do not change it.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hftx import _core

ConfigError = _core.ConfigError

__all__ = [
    "BINANCE_ENDPOINTS",
    "Config",
    "HftConfig",
    "InstrumentConfig",
    "LatencyConfig",
    "MetricsConfig",
    "PerformanceConfig",
    "Problem",
    "ReportConfig",
    "RiskConfig",
    "SessionConfig",
    "SimulatorConfig",
    "StrategyConfig",
    "ThreadingConfig",
    "VenueConfig",
    "WebSocketConfig",
    "load_config",
]

#: Public Binance endpoints used when ``venue.name: binance`` leaves a URL empty: market -> (streams, WS API).
BINANCE_ENDPOINTS: dict[str, tuple[str, str]] = {
    "spot": ("wss://stream.binance.com:9443/stream", "wss://ws-api.binance.com:443/ws-api/v3"),
    "usdm": ("wss://fstream.binance.com/stream", "wss://ws-fapi.binance.com/ws-fapi/v1"),
    "coinm": ("wss://dstream.binance.com/stream", "wss://ws-dapi.binance.com/ws-dapi/v1"),
}

_DECIMAL_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")


# ---- value types -----------------------------------------------------------------------------------------


def _decimal_text(value: object) -> object:
    """Numbers written without quotes in YAML (``price_step: 0.01``) become their shortest decimal text."""
    if isinstance(value, bool):
        return value  # rejected below as "not a decimal"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return value


def _positive_decimal(value: str) -> str:
    if not _DECIMAL_RE.match(value):
        raise ValueError("expected a decimal number like '0.01' (digits, optional fraction, no sign or exponent)")
    if Decimal(value) <= 0:
        raise ValueError("expected a decimal number > 0")
    return value


PositiveDecimal = Annotated[str, BeforeValidator(_decimal_text), AfterValidator(_positive_decimal)]


def _env_name(value: str) -> str:
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", value):
        raise ValueError("expected the NAME of an environment variable (letters, digits, _), not a secret")
    return value


def _ws_url(value: str) -> str:
    if value and not re.match(r"^wss?://[^/\s:]+(:[0-9]{1,5})?(/\S*)?$", value):
        raise ValueError("expected '' or a URL ws://HOST[:PORT]/PATH or wss://HOST[:PORT]/PATH")
    return value


def _listish(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


EnvName = Annotated[str, AfterValidator(_env_name)]
WsUrl = Annotated[str, AfterValidator(_ws_url)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


# ---- the seed's block ------------------------------------------------------------------------------------


class PerformanceConfig(_Model):
    """``hft.performance``: what the session asks of the OS (the report says what it granted)."""

    enable_lock_free: bool = True
    enable_memory_pools: bool = True
    enable_cpu_affinity: bool = True
    isolated_cores: Annotated[tuple[Annotated[int, Field(ge=0, le=4095)], ...], BeforeValidator(_listish)] = ()
    enable_huge_pages: bool = True
    enable_numa_awareness: bool = True

    @field_validator("isolated_cores")
    @classmethod
    def _unique_cores(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(v)) != len(v):
            raise ValueError("expected each CPU at most once")
        return v


class LatencyConfig(_Model):
    """``hft.latency``: per-stage histograms (always) and sampled traces."""

    enable_tracking: bool = True
    max_traces: int = Field(default=10_000, ge=0, le=10_000_000)
    sample_rate: float = Field(default=0.01, ge=0.0, le=1.0)


class WebSocketConfig(_Model):
    """``hft.websocket``: socket buffers and options of every connection."""

    read_buffer_size: int = Field(default=65_536, ge=1024, le=1 << 30)
    write_buffer_size: int = Field(default=65_536, ge=1024, le=1 << 30)
    no_delay: bool = True
    keep_alive: bool = True


class HftConfig(_Model):
    """The seed's ``hft:`` block."""

    performance: PerformanceConfig = PerformanceConfig()
    latency: LatencyConfig = LatencyConfig()
    websocket: WebSocketConfig = WebSocketConfig()


# ---- venue, instruments, strategies ----------------------------------------------------------------------


class VenueConfig(_Model):
    """Where market data and orders go. Credentials are named by environment variable, never written here."""

    name: Literal["simulator", "binance"] = "simulator"
    market_url: WsUrl = ""
    api_url: WsUrl = Field(default="", validate_default=True)
    market: Literal["spot", "usdm", "coinm"] = "spot"
    api_key_env: EnvName = "HFTX_API_KEY"
    secret_key_env: EnvName = "HFTX_SECRET_KEY"
    # The order id is a uint64 (up to 20 digits) and Binance caps newClientOrderId at 36 characters.
    client_id_prefix: str = Field(default="hx", pattern=r"^[A-Za-z0-9_-]{0,16}$")
    recv_window_ms: int = Field(default=5000, ge=1, le=60_000)
    # session.logon on the order connection, so that orders go out unsigned (Binance: Ed25519 keys only).
    # auto: when the key is Ed25519; always: an HMAC key is an error; never: sign every request.
    session_logon: Literal["auto", "always", "never"] = "auto"
    depth_stream: Literal["depth", "depth@100ms"] = "depth@100ms"
    connect_timeout_ms: int = Field(default=5000, ge=100, le=120_000)

    @model_validator(mode="before")
    @classmethod
    def _binance_endpoints(cls, data: object) -> object:
        """venue.name binance with an empty URL: Binance's public endpoint for the market."""
        if isinstance(data, dict) and data.get("name") == "binance":
            urls = BINANCE_ENDPOINTS.get(str(data.get("market", "spot")))
            if urls is not None:
                data = dict(data)
                for key, url in zip(("market_url", "api_url"), urls, strict=True):
                    if not data.get(key):
                        data[key] = url
        return data

    @field_validator("api_url")
    @classmethod
    def _both_or_neither(cls, v: str, info: ValidationInfo) -> str:
        market_url = info.data.get("market_url")
        if market_url is not None and bool(market_url) != bool(v):
            raise ValueError(
                "expected market_url and api_url both empty (start the simulator in process) or both "
                "set (an external `hftx sim`)"
            )
        return v


_BINANCE_DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000, 5000)


class InstrumentConfig(_Model):
    """One traded symbol and its grids."""

    symbol: str = Field(pattern=r"^[A-Z0-9]{2,20}$")
    price_step: PositiveDecimal = "0.01"
    qty_step: PositiveDecimal = "0.00000001"
    lot_step: PositiveDecimal = "0.00001"
    snapshot_depth: int = 1000

    @field_validator("snapshot_depth")
    @classmethod
    def _depth(cls, v: int) -> int:
        if v not in _BINANCE_DEPTH_LIMITS:
            raise ValueError(f"expected one of {', '.join(map(str, _BINANCE_DEPTH_LIMITS))} (Binance depth limits)")
        return v

    @field_validator("lot_step")
    @classmethod
    def _lot_on_qty_grid(cls, v: str, info: ValidationInfo) -> str:
        qty_step = info.data.get("qty_step")
        if qty_step is not None and Decimal(v) % Decimal(qty_step) != 0:
            raise ValueError(f"expected a multiple of qty_step {qty_step}")
        return v


class StrategyConfig(_Model):
    """A built-in strategy, or (``type: python``) a :class:`hftx.Strategy` subclass named by ``class``
    (``"package.module:ClassName"``, ``"__main__:ClassName"``, or ``"path/to/file.py:ClassName"``), built with
    ``params`` as keyword arguments. ``count`` instances share the parameters."""

    model_config = ConfigDict(populate_by_name=True)

    type: Literal["market_maker", "taker", "latency_probe", "python"]
    instrument: str
    count: int = Field(default=1, ge=1, le=100_000)
    params: dict[Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")], float] = Field(default_factory=dict)
    class_: str | None = Field(default=None, alias="class", pattern=r"^[^:]+:[A-Za-z_][A-Za-z0-9_]*$")

    @field_validator("class_")
    @classmethod
    def _class_file_resolved(cls, v: str | None, info: ValidationInfo) -> str | None:
        # "file.py:Class": the file is found like every other path (relative to the config file).
        if v is None or not v.rpartition(":")[0].endswith(".py"):
            return v
        path, _, name = v.rpartition(":")
        return f"{_resolve_path(path, info)}:{name}"

    @model_validator(mode="after")
    def _class_for_python_only(self) -> StrategyConfig:
        if self.type == "python" and self.class_ is None:
            raise ValueError('type python needs class: "module:ClassName"')
        if self.type != "python" and self.class_ is not None:
            raise ValueError(f"class is only for type python (this is {self.type})")
        return self


# ---- risk, threads, session, simulator, Python-only blocks -----------------------------------------------


class RiskConfig(_Model):
    """Pre-trade checks on every order, and the kill switch."""

    max_order_qty: float = Field(default=1.0, gt=0)
    max_notional: float = Field(default=100_000.0, gt=0)
    price_band_bps: float = Field(default=500.0, gt=0, le=10_000)
    max_position: float = Field(default=10.0, gt=0)
    max_open_orders: int = Field(default=1000, ge=1, le=1_000_000)
    orders_per_second: float = Field(default=100_000.0, gt=0)
    burst: int = Field(default=1000, ge=1, le=10_000_000)
    loss_limit: float = Field(default=1_000_000.0, ge=0)
    reject_storm: int = Field(default=50, ge=0)


class ThreadingConfig(_Model):
    """inline: one thread does everything; pipelined: feed → strategy workers → gateway."""

    mode: Literal["inline", "pipelined"] = "inline"
    workers: int = Field(default=2, ge=0, le=256)
    queue_capacity: int = Field(default=4096, ge=2, le=1 << 24)
    busy_poll: bool = False
    realtime: bool = False


class SessionConfig(_Model):
    """Session housekeeping."""

    cancel_on_stop: bool = True
    top_first: bool = True
    timer_interval_ms: int = Field(default=100, ge=1, le=60_000)
    max_orders: int = Field(default=65_536, ge=16, le=1 << 24)


def _resolve_path(text: str, info: ValidationInfo) -> str:
    """$VARS and ~ expand; a relative path is relative to the config file's directory; the file must exist."""
    base = Path((info.context or {}).get("base_dir") or Path.cwd())
    p = Path(os.path.expanduser(os.path.expandvars(text)))
    p = Path(os.path.normpath(p if p.is_absolute() else base / p))
    if not p.is_file():
        raise ValueError(f"no such file ({p})")
    return str(p)


class SimulatorConfig(_Model):
    """The in-process Binance-compatible exchange (used when ``venue.name: simulator`` and no URLs are set)."""

    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=0, ge=0, le=65_535)
    mode: Literal["generated", "replay"] = "generated"
    seed: int = Field(default=42, ge=0, le=2**63 - 1)
    event_rate: int = Field(default=20_000, ge=0, le=10_000_000)
    depth_levels: int = Field(default=1000, ge=1, le=100_000)
    start_price: PositiveDecimal = "60000.00"
    trade_probability: float = Field(default=0.2, ge=0.0, le=1.0)
    replay_files: Annotated[tuple[Annotated[str, AfterValidator(_resolve_path)], ...], BeforeValidator(_listish)] = ()
    replay_pace: Literal["recorded", "fast"] = "recorded"
    latency_us: int = Field(default=0, ge=0, le=10_000_000)
    balances: dict[Annotated[str, Field(pattern=r"^[A-Z0-9]{1,20}$")], Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {"USDT": 10_000_000.0, "BTC": 1000.0}
    )


class MetricsConfig(_Model):
    """Prometheus exposition during ``hftx run`` (Python only). port 0: any free port (printed)."""

    enabled: bool = False
    port: int = Field(default=9464, ge=0, le=65_535)


class ReportConfig(_Model):
    """Where ``hftx run`` writes the report (Python only). dir '' = runs/<timestamp>."""

    dir: str = ""
    plots: bool = True


_M = TypeVar("_M", bound=BaseModel)


class Config(_Model):
    """The whole, validated configuration. Build it with :func:`load_config`."""

    hft: HftConfig = HftConfig()
    venue: VenueConfig = VenueConfig()
    instruments: Annotated[tuple[InstrumentConfig, ...], BeforeValidator(_listish)] = Field(
        default=(InstrumentConfig(symbol="BTCUSDT"),), min_length=1)
    strategies: Annotated[tuple[StrategyConfig, ...], BeforeValidator(_listish)] = ()
    risk: RiskConfig = RiskConfig()
    threading: ThreadingConfig = ThreadingConfig()
    session: SessionConfig = SessionConfig()
    simulator: SimulatorConfig = SimulatorConfig()
    metrics: MetricsConfig = MetricsConfig()
    report: ReportConfig = ReportConfig()

    _source: str = PrivateAttr(default="<dict>")

    @model_validator(mode="after")
    def _cross(self) -> Config:
        problems = _cross_checks(venue=self.venue, instruments=list(self.instruments),
                                 strategies=list(self.strategies), threading=self.threading,
                                 simulator=self.simulator)
        if problems:
            raise ValueError("; ".join(f"{p.path}: {p.expected}" for p in problems))
        return self

    @property
    def source(self) -> str:
        """The file this config was loaded from ('<dict>' when built from a mapping)."""
        return self._source

    def to_core(self) -> dict[str, Any]:
        """The normalised dict of the session contract (every key, numbers as int/float, decimals as str)."""
        core: dict[str, Any] = _plain(self.model_dump(mode="python", by_alias=True))
        for strategy in core["strategies"]:  # `class` belongs to type python only
            if strategy["class"] is None:
                del strategy["class"]
        return core

    def hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of :meth:`to_core` without the Python-only blocks."""
        core = self.to_core()
        core.pop("metrics")
        core.pop("report")
        text = json.dumps(core, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def replace(self, **sections: Mapping[str, Any]) -> Config:
        """A copy with some keys of some blocks changed, validated again:
        ``cfg.replace(report={"dir": "out"}, metrics={"enabled": True})``."""
        data = self.to_core()
        for name, values in sections.items():
            if name not in data or not isinstance(data[name], dict):
                raise ConfigError(f"replace({name}=...): expected one of the blocks {sorted(_BLOCKS)}")
            data[name] = {**data[name], **values}
        cfg = load_config(data, _base_dir=None)
        cfg._source = self._source
        return cfg


_BLOCKS = ("hft", "venue", "risk", "threading", "session", "simulator", "metrics", "report")


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


# ---- problems and their messages -------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration."""

    path: str  # key path: risk.max_order_qty, strategies[1].type
    value: str  # repr of the value found ('' when the key is missing)
    expected: str  # what was expected, in words
    line: int | None = None  # 1-based line in the file, when known

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        value = f" = {self.value}" if self.value else ""
        return f"{where}{self.path}{value}: {self.expected}"


def _format_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _short(value: object) -> str:
    try:
        text = json.dumps(value) if isinstance(value, (str, int, float, bool)) or value is None else repr(value)
    except ValueError:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_TYPE_WORDS = {
    "bool_type": "expected true or false",
    "int_type": "expected an integer",
    "float_type": "expected a number",
    "string_type": "expected a string",
    "dict_type": "expected a mapping (key: value)",
    "model_type": "expected a mapping (key: value)",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "missing": "required key is missing",
    "int_from_float": "expected an integer",
}


_CTX_WORDS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "literal_error": lambda c: f"expected one of {c.get('expected')}",
    "greater_than_equal": lambda c: f"expected a value >= {c.get('ge')}",
    "greater_than": lambda c: f"expected a value > {c.get('gt')}",
    "less_than_equal": lambda c: f"expected a value <= {c.get('le')}",
    "less_than": lambda c: f"expected a value < {c.get('lt')}",
    "string_pattern_mismatch": lambda c: f"expected text matching {c.get('pattern')}",
    "string_too_short": lambda c: "expected a non-empty string",
    "too_short": lambda c: f"expected at least {c.get('min_length')} item(s)",
}


def _expected(err: Mapping[str, Any], known: list[str]) -> str:
    """What was expected, in words, for one pydantic error."""
    kind = str(err["type"])
    if kind == "extra_forbidden":
        name = str(err["loc"][-1])
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown key{hint}; expected one of: {', '.join(known)}"
    if kind in _CTX_WORDS:
        return _CTX_WORDS[kind](err.get("ctx") or {})
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    return _TYPE_WORDS.get(kind, str(err["msg"]))


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class that owns the last key of ``loc`` (for the list of known keys)."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if current is None or isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current


def _inner_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _problems_from(exc: ValidationError, model: type[BaseModel], prefix: tuple[int | str, ...],
                   raw: object) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        owner = _model_at(model, loc)
        known = list(owner.model_fields) if owner is not None else []
        value = "" if err["type"] == "missing" else _short(err["input"])
        if err["type"] in ("model_type", "dict_type") and not loc:
            value = _short(raw)
        out.append(Problem(_format_path(prefix + loc), value, _expected(err, known)))
    return out


# ---- cross-field checks ----------------------------------------------------------------------------------


def _cross_checks(
    *,
    venue: VenueConfig | None,
    instruments: list[InstrumentConfig | None] | None,
    strategies: list[StrategyConfig | None] | None,
    threading: ThreadingConfig | None,
    simulator: SimulatorConfig | None,
    symbols: list[str] | None = None,
) -> list[Problem]:
    """Checks that involve several keys; runs on whatever blocks validated (None = that block had errors).
    ``symbols``: every symbol written in the instruments list (also those of instruments with other errors)."""
    out: list[Problem] = []
    if symbols is None:
        symbols = [inst.symbol for inst in instruments or () if inst is not None]
    seen: set[str] = set()
    for i, sym in enumerate(symbols):
        if sym in seen:
            out.append(Problem(f"instruments[{i}].symbol", _short(sym), "expected each symbol once"))
        seen.add(sym)
    if strategies is not None and symbols:
        total = 0
        for i, strat in enumerate(strategies):
            if strat is None:
                continue
            total += strat.count
            if strat.instrument not in symbols:
                out.append(Problem(f"strategies[{i}].instrument", _short(strat.instrument),
                                   f"expected one of the configured instruments {symbols}"))
        if total > 1_000_000:
            out.append(Problem("strategies", str(total), "expected at most 1,000,000 strategy instances in all"))
    if threading is not None and threading.mode == "pipelined" and threading.workers < 1:
        out.append(Problem("threading.workers", str(threading.workers), "expected >= 1 when threading.mode is "
                           "'pipelined' (strategy worker threads)"))
    in_process = venue is not None and venue.name == "simulator" and not venue.market_url
    if simulator is not None and in_process:
        if simulator.mode == "replay" and not simulator.replay_files:
            out.append(Problem("simulator.replay_files", "[]", "expected at least one recorded file when "
                               "simulator.mode is 'replay'"))
        if simulator.mode == "generated" and instruments is not None:
            for i, inst in enumerate(instruments):
                if inst is not None and Decimal(simulator.start_price) % Decimal(inst.price_step) != 0:
                    out.append(Problem("simulator.start_price", _short(simulator.start_price),
                                       f"expected a multiple of instruments[{i}].price_step {inst.price_step}"))
    return out


# ---- YAML with line numbers ------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_map(node: yaml.Node | None, path: str = "", out: dict[str, int] | None = None) -> dict[str, int]:
    """Key path -> 1-based line of every key and list item in the document."""
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            sub = f"{path}.{k.value}" if path else str(k.value)
            out[sub] = k.start_mark.line + 1
            _line_map(v, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            sub = f"{path}[{i}]"
            out[sub] = v.start_mark.line + 1
            _line_map(v, sub, out)
    return out


def _line_of(path: str, lines: Mapping[str, int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


# ---- loading ---------------------------------------------------------------------------------------------


def _fail(source: str, problems: list[Problem]) -> ConfigError:
    problems = sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.path))
    head = f"{source}: {len(problems)} problem{'s' if len(problems) != 1 else ''} in the configuration"
    exc = ConfigError(head + "\n" + "\n".join(f"  {p}" for p in problems))
    exc.problems = tuple(problems)  # type: ignore[attr-defined]
    exc.source = source  # type: ignore[attr-defined]
    return exc


def _validate_block(model: type[_M], value: object, prefix: tuple[int | str, ...],
                    context: Mapping[str, Any], problems: list[Problem]) -> _M | None:
    try:
        return model.model_validate(value, context=dict(context))
    except ValidationError as exc:
        problems.extend(_problems_from(exc, model, prefix, value))
        return None


def _validate_list(model: type[_M], value: object, name: str, context: Mapping[str, Any],
                   problems: list[Problem]) -> list[_M | None] | None:
    if not isinstance(value, list):
        problems.append(Problem(name, _short(value), "expected a list"))
        return None
    return [_validate_block(model, item, (name, i), context, problems) for i, item in enumerate(value)]


def load_config(source: str | os.PathLike[str] | Mapping[str, Any], *, _base_dir: Path | None = None) -> Config:
    """Loads and validates a configuration from a YAML file (path) or a mapping.

    Accepts the whole document or just the seed's block: every key has a default. Without ``strategies`` the
    session runs the demo pair (a market maker and a latency probe) on the first instrument.

    Raises :class:`hftx.ConfigError` listing every problem (``exc.problems``), or ``FileNotFoundError``.
    """
    lines: dict[str, int] = {}
    if isinstance(source, Mapping):
        name = "<dict>"
        raw: object = dict(source)
        base_dir = _base_dir
    else:
        path = Path(source)
        name = str(path)
        if not path.is_file():
            raise FileNotFoundError(f"{name}: no such config file")
        text = path.read_text(encoding="utf-8")
        try:
            raw = yaml.load(text, Loader=_StrictLoader)
            lines = _line_map(yaml.compose(text, Loader=yaml.SafeLoader))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            raise _fail(name, [Problem("<yaml>", "", f"{where}not valid YAML: "
                                       f"{getattr(exc, 'problem', None) or exc}")]) from None
        base_dir = path.resolve().parent
        raw = {} if raw is None else raw
    cfg = _build(raw, name, base_dir, lines)
    cfg._source = name
    return cfg


def _build(raw: object, name: str, base_dir: Path | None, lines: Mapping[str, int]) -> Config:
    if not isinstance(raw, dict):
        raise _fail(name, [Problem("<top level>", _short(raw), "expected a mapping of blocks (hft:, venue:, ...)")])
    problems: list[Problem] = []
    ctx = {"base_dir": base_dir}
    known = list(Config.model_fields)
    for key in raw:
        if key not in Config.model_fields:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(Problem(str(key), "", f"unknown block{hint}; expected one of: {', '.join(known)}"))

    def block(model: type[_M], key: str) -> _M | None:
        if key not in raw:
            return model()
        return _validate_block(model, raw[key], (key,), ctx, problems)

    hft = block(HftConfig, "hft")
    venue = block(VenueConfig, "venue")
    risk = block(RiskConfig, "risk")
    threading = block(ThreadingConfig, "threading")
    session = block(SessionConfig, "session")
    simulator = block(SimulatorConfig, "simulator")
    metrics = block(MetricsConfig, "metrics")
    report = block(ReportConfig, "report")
    instruments: list[InstrumentConfig | None] | None = (
        _validate_list(InstrumentConfig, raw["instruments"], "instruments", ctx, problems)
        if "instruments" in raw else list(Config.model_fields["instruments"].default)
    )
    if instruments is not None and not instruments:
        problems.append(Problem("instruments", "[]", "expected at least one instrument"))
    strategies: list[StrategyConfig | None] | None
    if "strategies" in raw:
        strategies = _validate_list(StrategyConfig, raw["strategies"], "strategies", ctx, problems)
    elif instruments and instruments[0] is not None:
        sym = instruments[0].symbol
        strategies = [StrategyConfig(type="market_maker", instrument=sym),
                      StrategyConfig(type="latency_probe", instrument=sym)]
    else:
        strategies = None
    raw_instruments = raw.get("instruments")
    symbols: list[str] | None = None
    if "instruments" not in raw:
        symbols = [i.symbol for i in Config.model_fields["instruments"].default]
    elif isinstance(raw_instruments, list):
        symbols = [str(x["symbol"]) for x in raw_instruments
                   if isinstance(x, dict) and isinstance(x.get("symbol"), str)]
    problems += _cross_checks(venue=venue, instruments=instruments, strategies=strategies, threading=threading,
                              simulator=simulator, symbols=symbols)
    if symbols and strategies is not None:
        # A strategy with other errors is None above: still say when its instrument is not configured.
        for i, strat in enumerate(strategies):
            item = raw["strategies"][i] if strat is None else None
            inst = item.get("instrument") if isinstance(item, dict) else None
            if isinstance(inst, str) and inst not in symbols:
                problems.append(Problem(f"strategies[{i}].instrument", _short(inst),
                                        f"expected one of the configured instruments {symbols}"))
    if problems:
        raise _fail(name, [Problem(p.path, p.value, p.expected, _line_of(p.path, lines)) for p in problems])
    assert instruments is not None and strategies is not None  # no problems: every block validated
    return Config.model_validate({
        "hft": hft, "venue": venue, "instruments": tuple(instruments), "strategies": tuple(strategies),
        "risk": risk, "threading": threading, "session": session, "simulator": simulator,
        "metrics": metrics, "report": report,
    }, context=ctx)
