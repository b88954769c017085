"""Session configuration: YAML → a frozen, validated :class:`Config` → the plain dict the C++ session takes.

``load_config(path_or_dict)`` checks everything at once and raises one :class:`hftx.ConfigError` whose message
lists every problem — the key path (``risk.max_order_qty``, ``strategies[1].type``), the value, what was
expected, the file and the line. The exception carries them as ``exc.problems`` (a tuple of :class:`Problem`).

The schema is the C++ one, defined once beside the structs it describes (``session/config.hpp``, read here through
``_core.config_schema()``): every session key's path, type, default, bounds or choices and doc. The pydantic models
(strict types, frozen, unknown keys are errors) are built from it when this module is imported, and the venue
block's keys from the venue registry (``hftx.venues()``): ``venue.name`` is the simulator or a venue, each venue's
own keys sit flat under ``venue:`` and only the keys of the venue whose protocol the session speaks are accepted.
What stays in Python is Python's: the ``simulator`` block (the in-process exchange's), the Python-only ``metrics``
and ``report`` blocks, the ``python`` strategy type and its ``class``, file paths, YAML line numbers, the all-at-once
report and the checks that involve several keys (they need the lines). Every key has a default, so the seed's
``hft:`` block alone is a complete configuration. Relative paths in ``simulator.replay_files`` are resolved against
the directory of the config file (``$VARS`` and ``~`` expand first); ``report.dir`` is an output and is relative
to the working directory.

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
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from hftx import _core
from hftx.venue import SIMULATOR, Venue, find_venue, foreign_key, or_list, venues

ConfigError = _core.ConfigError

__all__ = [
    "SCHEMA",
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

#: The session's keys as C++ describes them (``_core.config_schema()``): one dict per block, list and key, in
#: order, with ``path`` (``hft.latency.sample_rate``; a list's items ``instruments[].symbol``), ``type``, ``doc``,
#: ``default``, ``required``, ``min``/``max``/``min_exclusive``, ``min_length``/``max_length``, ``choices``,
#: ``pattern``/``expected``, ``format``, ``unique``, ``venue`` (a rule of the venue registry) and ``venue_options``.
SCHEMA: tuple[dict[str, Any], ...] = tuple(_core.config_schema())

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


def _decimal_step(value: str) -> str:
    """A grid step the C++ core can represent (``Scale``: at most 18 decimals and 18 significant digits)."""
    try:
        _core.Scale(value)
    except ConfigError as exc:
        raise ValueError(f"expected a decimal step hftx can represent ({exc})") from None
    return value


PositiveDecimal = Annotated[str, BeforeValidator(_decimal_text), AfterValidator(_positive_decimal)]
DecimalStep = Annotated[PositiveDecimal, AfterValidator(_decimal_step)]


def _listish(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _matching(pattern: str, expected: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise ValueError(f"expected {expected}" if expected else f"expected text matching {pattern}")
        return value

    return check


def _unique(item: str) -> Callable[[tuple[int, ...]], tuple[int, ...]]:
    def check(value: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"expected each {item} at most once")
        return value

    return check


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class _Block(_Model):
    """A block whose keys come from the C++ schema (built at import): its attributes are typed Any for mypy."""

    if TYPE_CHECKING:
        def __getattr__(self, name: str) -> Any: ...


# ---- the venue registry's rules --------------------------------------------------------------------------


def _protocol(data: Mapping[str, Any]) -> Venue | None:
    """The venue whose protocol a venue block speaks (its validated name and dialect), None if they are wrong."""
    name = data.get("name")
    return find_venue(data.get("dialect") if name == SIMULATOR else name)


def _context_venue(info: ValidationInfo) -> Venue | None:
    """The protocol venue load_config found (the instruments are checked against it), None when unknown."""
    venue = (info.context or {}).get("venue")
    return venue if isinstance(venue, Venue) else None


def _venue_market(value: str, info: ValidationInfo) -> str:
    venue = _protocol(info.data)
    if venue is not None and venue.market(value) is None:
        raise ValueError(f"expected one of {venue.name}'s markets: {or_list([m.name for m in venue.markets])}")
    return value


def _venue_client_id_prefix(value: str, info: ValidationInfo) -> str:
    venue = _protocol(info.data)
    if venue is not None and venue.client_id_prefix_pattern and not re.fullmatch(venue.client_id_prefix_pattern,
                                                                                   value):
        raise ValueError(f"expected text matching {venue.client_id_prefix_pattern} ({venue.name}'s client order ids)")
    return value


def _venue_symbol(value: str, info: ValidationInfo) -> str:
    venue = _context_venue(info)
    if venue is not None and venue.symbol_pattern and not re.fullmatch(venue.symbol_pattern, value):
        raise ValueError(f"expected a {venue.name} instrument name matching {venue.symbol_pattern}")
    return value


def _venue_snapshot_depth(value: int, info: ValidationInfo) -> int:
    venue = _context_venue(info)
    if venue is not None and venue.snapshot_depths and value not in venue.snapshot_depths:
        raise ValueError(f"expected one of {', '.join(map(str, venue.snapshot_depths))} ({venue.name} depth limits)")
    return value


def _venue_option(key: str) -> Callable[[object, ValidationInfo], str | int]:
    """A venue's own key: the protocol venue's spec checks it; a key it does not declare is refused, naming whose
    key it is and the venues."""

    def check(value: object, info: ValidationInfo) -> str | int:
        venue = _protocol(info.data)
        if venue is None:
            # venue.name or venue.dialect is wrong, which is said there: no venue to check the key against.
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise ValueError("expected text or an integer")
            return value
        spec = venue.option(key)
        if spec is None:
            raise ValueError(foreign_key(venue, key))
        return spec.check(value)

    return check


_VENUE_RULES: dict[str, Callable[..., Any]] = {
    "market": _venue_market,
    "client_id_prefix": _venue_client_id_prefix,
    "symbol": _venue_symbol,
    "snapshot_depth": _venue_snapshot_depth,
}


# ---- blocks with Python's own parts ----------------------------------------------------------------------


class _VenueBlock(_Block):
    """Where market data and orders go. Credentials are named by environment variable, never written here."""

    @model_validator(mode="before")
    @classmethod
    def _venue_defaults(cls, data: object) -> object:
        """The protocol venue's keys not given take its defaults; a venue (not the simulator) with empty URLs gets
        its public endpoints for the market."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        fields = cls.model_fields
        name = data.get("name", fields["name"].default)
        venue = _protocol({"name": name, "dialect": data.get("dialect", fields["dialect"].default)})
        if venue is None:
            return data
        for option in venue.options:
            data.setdefault(option.key, option.default)
        if name != SIMULATOR:
            market = venue.market(str(data.get("market", fields["market"].default)))
            if market is not None:
                for key, url in (("market_url", market.market_url), ("api_url", market.api_url)):
                    if not data.get(key):
                        data[key] = url
        return data


def _both_or_neither(value: str, info: ValidationInfo) -> str:
    market_url = info.data.get("market_url")
    if market_url is not None and bool(market_url) != bool(value):
        raise ValueError(
            "expected market_url and api_url both empty (start the simulator in process) or both "
            "set (an external `hftx sim`)"
        )
    return value


def _lot_on_qty_grid(value: str, info: ValidationInfo) -> str:
    qty_step = info.data.get("qty_step")
    if qty_step is not None and Decimal(value) % Decimal(qty_step) != 0:
        raise ValueError(f"expected a multiple of qty_step {qty_step}")
    return value


def _resolve_path(text: str, info: ValidationInfo) -> str:
    """$VARS and ~ expand; a relative path is relative to the config file's directory; the file must exist."""
    base = Path((info.context or {}).get("base_dir") or Path.cwd())
    p = Path(os.path.expanduser(os.path.expandvars(text)))
    p = Path(os.path.normpath(p if p.is_absolute() else base / p))
    if not p.is_file():
        raise ValueError(f"no such file ({p})")
    return str(p)


class _StrategyBlock(_Block):
    """A built-in strategy, or (``type: python``) a :class:`hftx.Strategy` subclass named by ``class``
    (``"package.module:ClassName"``, ``"__main__:ClassName"``, or ``"path/to/file.py:ClassName"``), built with
    ``params`` as keyword arguments. ``count`` instances share the parameters."""

    model_config = ConfigDict(populate_by_name=True)

    @field_validator("class_", check_fields=False)
    @classmethod
    def _class_file_resolved(cls, v: str | None, info: ValidationInfo) -> str | None:
        # "file.py:Class": the file is found like every other path (relative to the config file).
        if v is None or not v.rpartition(":")[0].endswith(".py"):
            return v
        path, _, name = v.rpartition(":")
        return f"{_resolve_path(path, info)}:{name}"

    @model_validator(mode="after")
    def _class_for_python_only(self) -> _StrategyBlock:
        if self.type == "python" and self.class_ is None:
            raise ValueError('type python needs class: "module:ClassName"')
        if self.type != "python" and self.class_ is not None:
            raise ValueError(f"class is only for type python (this is {self.type})")
        return self


#: What Python adds to the C++ schema, by path: choices, fields (after the schema's), validators, bases.
_EXTRA_CHOICES: dict[str, tuple[str, ...]] = {"strategies[].type": ("python",)}
_EXTRA_FIELDS: dict[str, dict[str, Any]] = {
    "strategies[]": {"class_": (str | None, Field(default=None, alias="class",
                                                  pattern=r"^[^:]+:[A-Za-z_][A-Za-z0-9_]*$"))},
}
_EXTRA_VALIDATORS: dict[str, tuple[Any, ...]] = {
    "venue.api_url": (AfterValidator(_both_or_neither),),
    "instruments[].lot_step": (AfterValidator(_lot_on_qty_grid),),
}
_BASES: dict[str, type[_Block]] = {"venue": _VenueBlock, "strategies[]": _StrategyBlock}
_MODEL_NAMES = {"hft": "HftConfig", "hft.websocket": "WebSocketConfig", "instruments[]": "InstrumentConfig",
                "strategies[]": "StrategyConfig"}


# ---- the models, from the schema -------------------------------------------------------------------------


# typing's special forms, subscripted with types built at run time.
_ANNOTATED: Any = Annotated
_LITERAL: Any = Literal
_TUPLE: Any = tuple
_DICT: Any = dict


def _annotated(base: Any, *metadata: Any) -> Any:
    """Annotated[base, *metadata], or base alone."""
    return _ANNOTATED[tuple([base, *metadata])] if metadata else base


def _literal(choices: tuple[str, ...] | list[str]) -> Any:
    return _LITERAL[tuple(choices)]


def _bounds(entry: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if entry["min"] is not None:
        out["gt" if entry["min_exclusive"] else "ge"] = entry["min"]
    if entry["max"] is not None:
        out["le"] = entry["max"]
    return out


def _annotation(entry: Mapping[str, Any]) -> Any:
    """The pydantic type of one key of the schema."""
    kind, path = entry["type"], entry["path"]
    extra = _EXTRA_VALIDATORS.get(path, ())
    if kind == "str" and not entry["choices"]:
        return _text_annotation(entry, extra)
    if kind in {"choice", "str"}:
        return _literal([*entry["choices"], *_EXTRA_CHOICES.get(path, ())])
    if kind not in _ANNOTATIONS:
        raise TypeError(f"{path}: no Python type for schema type {kind!r}")
    return _ANNOTATIONS[kind](entry, extra)


def _int_annotation(entry: Mapping[str, Any], extra: tuple[Any, ...]) -> Any:
    rule = entry["venue"]
    ruled = (AfterValidator(_VENUE_RULES[rule]),) if rule in _VENUE_RULES else ()
    return _annotated(int, Field(**_bounds(entry)), *ruled, *extra)


def _int_list_annotation(entry: Mapping[str, Any], extra: tuple[Any, ...]) -> Any:
    unique = (AfterValidator(_unique(entry["unique"])),) if entry["unique"] else ()
    item = _annotated(int, Field(**_bounds(entry)))
    return _annotated(_TUPLE[item, ...], BeforeValidator(_listish), *unique, *extra)


def _float_map_annotation(entry: Mapping[str, Any], extra: tuple[Any, ...]) -> Any:
    key = _annotated(str, Field(pattern=entry["pattern"]))
    return _annotated(_DICT[key, float], *extra)


_ANNOTATIONS: dict[str, Callable[[Mapping[str, Any], tuple[Any, ...]], Any]] = {
    "bool": lambda entry, extra: _annotated(bool, *extra),
    "int": _int_annotation,
    "float": lambda entry, extra: _annotated(float, Field(**_bounds(entry)), *extra),
    "int_list": _int_list_annotation,
    "float_map": _float_map_annotation,
}


def _text_annotation(entry: Mapping[str, Any], extra: tuple[Any, ...]) -> Any:
    """A text key: the venue's names for venue.name and venue.dialect; else lengths, pattern, format, rules."""
    rule = entry["venue"]
    if rule == "name":
        return _literal([SIMULATOR, *(v.name for v in venues())])
    if rule == "dialect":
        return _literal([v.name for v in venues()])
    lengths = {k: v for k, v in (("min_length", entry["min_length"] or None), ("max_length", entry["max_length"]))
               if v is not None}
    metadata: list[Any] = [Field(**lengths)] if lengths else []
    if entry["format"] == "decimal_step":
        return _annotated(DecimalStep, *metadata, *extra)
    if entry["pattern"]:
        metadata.append(AfterValidator(_matching(entry["pattern"], entry["expected"])))
    if rule in _VENUE_RULES:
        metadata.append(AfterValidator(_VENUE_RULES[rule]))
    return _annotated(str, *metadata, *extra)


def _default(entry: Mapping[str, Any]) -> Any:
    if entry["type"] == "int_list":
        return tuple(entry["default"])
    return entry["default"]


def _model_name(path: str) -> str:
    if path in _MODEL_NAMES:
        return _MODEL_NAMES[path]
    last = path.rstrip("[]").rpartition(".")[2]
    return "".join(part.capitalize() for part in last.split("_")) + "Config"


#: Every model built from the schema, by path (a list's items: ``instruments[]``).
_MODELS: dict[str, type[_Block]] = {}


def _build_model(path: str, entries: list[dict[str, Any]]) -> type[_Block]:
    """The model of the block (or list item) at ``path``, from the schema entries below it, with what Python adds."""
    fields: dict[str, Any] = {}
    prefix = f"{path}." if path else ""
    doc = ""
    venue_options = False
    for entry in entries:
        p = entry["path"]
        if path and p == path.removesuffix("[]"):
            doc, venue_options = entry["doc"], entry["venue_options"]
        if not p.startswith(prefix) or "." in p[len(prefix):]:
            continue
        name = p[len(prefix):]
        if entry["type"] == "block":
            sub = _build_model(p, entries)
            fields[name] = (sub, Field(default_factory=sub, description=entry["doc"]))
        elif entry["type"] == "list":
            item = _build_model(f"{p}[]", entries)
            ann = _annotated(_TUPLE[item, ...], BeforeValidator(_listish))
            default = _LIST_DEFAULTS[p](item) if p in _LIST_DEFAULTS else ()
            fields[name] = (ann, Field(default=default, min_length=entry["min_length"], max_length=entry["max_length"],
                                       description=entry["doc"]))
        elif entry["required"]:
            fields[name] = (_annotation(entry), Field(description=entry["doc"]))
        elif entry["type"] == "float_map":
            fields[name] = (_annotation(entry), Field(default_factory=dict, description=entry["doc"]))
        else:
            # Keys with Python's cross-key checks check their default too (api_url left out, market_url given).
            fields[name] = (_annotation(entry), Field(default=_default(entry), description=entry["doc"],
                                                      validate_default=p in _EXTRA_VALIDATORS))
    if venue_options:
        fields.update(_option_fields())
    fields.update(_EXTRA_FIELDS.get(path, {}))
    base = _BASES.get(path, _Block)
    model: type[_Block] = create_model(
        _model_name(path) if path else "_SessionFields", __base__=base, __doc__=doc or base.__doc__, **fields)
    _MODELS[path] = model
    return model


def _option_fields() -> dict[str, Any]:
    """Every venue's own keys (each once, in registration order), None when not given: the protocol venue's default
    fills them in (_VenueBlock) and a key of another venue is refused (_venue_option)."""
    out: dict[str, Any] = {}
    for venue in venues():
        for option in venue.options:
            if option.key not in out:
                ann = Annotated[str | int | None, PlainValidator(_venue_option(option.key))]
                out[option.key] = (ann, Field(default=None, description=option.doc))
    return out


# ---- the simulator and the Python-only blocks ------------------------------------------------------------


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


# The root's Python blocks (after the session's), and the instruments a config without any trades.
_EXTRA_FIELDS[""] = {
    "simulator": (SimulatorConfig, Field(default_factory=SimulatorConfig)),
    "metrics": (MetricsConfig, Field(default_factory=MetricsConfig)),
    "report": (ReportConfig, Field(default_factory=ReportConfig)),
}
_LIST_DEFAULTS: dict[str, Callable[[type[_Block]], tuple[_Block, ...]]] = {
    "instruments": lambda item: (item.model_validate({"symbol": "BTCUSDT"}),),
}

if TYPE_CHECKING:
    _SessionFields = _Block
else:
    _SessionFields = _build_model("", list(SCHEMA))

HftConfig = _MODELS["hft"]
PerformanceConfig = _MODELS["hft.performance"]
LatencyConfig = _MODELS["hft.latency"]
WebSocketConfig = _MODELS["hft.websocket"]
VenueConfig = _MODELS["venue"]
InstrumentConfig = _MODELS["instruments[]"]
StrategyConfig = _MODELS["strategies[]"]
RiskConfig = _MODELS["risk"]
ThreadingConfig = _MODELS["threading"]
SessionConfig = _MODELS["session"]


_M = TypeVar("_M", bound=BaseModel)


class Config(_SessionFields):
    """The whole, validated configuration. Build it with :func:`load_config`. Its blocks are the schema's (hft,
    venue, instruments, strategies, risk, threading, session) and Python's (simulator, metrics, report)."""

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
        """The normalised dict of the session contract (every key, numbers as int/float, decimals as str; of the
        venues' own keys, the protocol venue's only)."""
        core: dict[str, Any] = _plain(self.model_dump(mode="python", by_alias=True))
        for strategy in core["strategies"]:  # `class` belongs to type python only
            if strategy["class"] is None:
                del strategy["class"]
        core["venue"] = {k: v for k, v in core["venue"].items() if v is not None}  # other venues' keys
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
        ``cfg.replace(report={"dir": "out"}, metrics={"enabled": True})``. A venue block given another name or
        dialect drops the previous venue's own keys that it does not give again."""
        data = self.to_core()
        for name, values in sections.items():
            if name not in data or not isinstance(data[name], dict):
                blocks = sorted(k for k, v in data.items() if isinstance(v, dict))
                raise ConfigError(f"replace({name}=...): expected one of the blocks {blocks}")
            old = data[name]
            if name == "venue" and ("name" in values or "dialect" in values):
                common = {k for k in VenueConfig.model_fields if all(v.option(k) is None for v in venues())}
                old = {k: v for k, v in old.items() if k in common}
            data[name] = {**old, **values}
        cfg = load_config(data, _base_dir=None)
        cfg._source = self._source
        return cfg


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
    "string_too_long": lambda c: f"expected at most {c.get('max_length')} characters",
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
        known = [f.alias or n for n, f in owner.model_fields.items()] if owner is not None else []
        value = "" if err["type"] == "missing" else _short(err["input"])
        if err["type"] in ("model_type", "dict_type") and not loc:
            value = _short(raw)
        out.append(Problem(_format_path(prefix + loc), value, _expected(err, known)))
    return out


# ---- cross-field checks ----------------------------------------------------------------------------------


def _cross_checks(
    *,
    venue: _Block | None,
    instruments: list[_Block | None] | None,
    strategies: list[_Block | None] | None,
    threading: _Block | None,
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
    in_process = venue is not None and venue.name == SIMULATOR and not venue.market_url
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
    ctx: dict[str, Any] = {"base_dir": base_dir}
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

    # The venue first: the instruments' symbols and depths are its protocol venue's.
    fields = Config.model_fields
    venue = block(VenueConfig, "venue")
    raw_venue = raw.get("venue", {})
    if venue is not None:
        ctx["venue"] = _protocol({"name": venue.name, "dialect": venue.dialect})
    elif isinstance(raw_venue, dict):
        ctx["venue"] = _protocol({"name": raw_venue.get("name", VenueConfig.model_fields["name"].default),
                                  "dialect": raw_venue.get("dialect", VenueConfig.model_fields["dialect"].default)})
    blocks: dict[str, BaseModel | None] = {"venue": venue}
    for key, field in fields.items():
        model = _inner_model(field.annotation)
        if key not in blocks and model is not None and getattr(field.annotation, "__origin__", None) is not tuple:
            blocks[key] = block(model, key)
    # The default instruments too: their names and depths must be the venue's.
    raw_instruments = raw["instruments"] if "instruments" in raw else [
        i.model_dump() for i in fields["instruments"].default]
    instruments = _validate_list(InstrumentConfig, raw_instruments, "instruments", ctx, problems)
    if instruments is not None and not instruments:
        problems.append(Problem("instruments", "[]", "expected at least one instrument"))
    strategies: list[_Block | None] | None
    if "strategies" in raw:
        strategies = _validate_list(StrategyConfig, raw["strategies"], "strategies", ctx, problems)
    elif instruments and instruments[0] is not None:
        sym = instruments[0].symbol
        strategies = [StrategyConfig.model_validate({"type": "market_maker", "instrument": sym}),
                      StrategyConfig.model_validate({"type": "latency_probe", "instrument": sym})]
    else:
        strategies = None
    threading = blocks["threading"]
    simulator = blocks["simulator"]
    assert simulator is None or isinstance(simulator, SimulatorConfig)
    symbols: list[str] | None = None
    if isinstance(raw_instruments, list):
        symbols = [str(x["symbol"]) for x in raw_instruments
                   if isinstance(x, dict) and isinstance(x.get("symbol"), str)]
    problems += _cross_checks(venue=venue, instruments=instruments, strategies=strategies,
                              threading=threading if isinstance(threading, _Block) else None,
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
    return Config.model_validate(
        {**blocks, "instruments": tuple(instruments), "strategies": tuple(strategies)}, context=ctx)
