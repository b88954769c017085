"""Configuration: every conf/*.yaml loads, broken configs say what is wrong (all at once, with key paths,
values, expectations, file and line), and the hash is stable."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

import hftx
import hftx.config
import hftx.venue
from hftx import _core
from hftx.config import Config, load_config
from hftx.session import default_config_path

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf"

pytestmark = pytest.mark.filterwarnings("error")


def test_every_shipped_config_loads() -> None:
    names = sorted(p.name for p in CONF.glob("*.yaml"))
    assert names == ["binance.yaml", "demo.yaml", "okx.yaml", "python.yaml", "replay.yaml", "seed.yaml",
                     "stress.yaml"]
    for name in names:
        cfg = load_config(CONF / name)
        assert isinstance(cfg, Config)
        assert cfg.source == str(CONF / name)
        core = cfg.to_core()
        assert set(core) == {"hft", "venue", "instruments", "strategies", "risk", "threading", "session",
                             "simulator", "metrics", "report"}
        json.dumps(core)  # plain data only


def test_demo_is_the_packaged_default_and_every_key_is_commented() -> None:
    assert default_config_path().read_text() == (CONF / "demo.yaml").read_text()
    text = (CONF / "demo.yaml").read_text()
    # Every key of the schema appears in demo.yaml with a comment on its line (or its block's line).
    core = load_config(CONF / "demo.yaml").to_core()
    lines = text.splitlines()

    def keys(d: dict[str, Any]) -> set[str]:
        out = set(d)
        for v in d.values():
            if isinstance(v, dict):
                out |= keys(v)
        return out

    schema_keys = keys(core) | {k for s in core["instruments"] + core["strategies"] for k in s}
    schema_keys -= {"USDT", "BTC", "spread_bps", "size"}  # values of balances/params, not schema keys
    for key in sorted(schema_keys):
        hits = [ln for ln in lines if ln.lstrip().lstrip("- ").startswith(f"{key}:")]
        assert hits, f"{key} not in demo.yaml"
        assert all("#" in ln for ln in hits), f"{key} is not commented in demo.yaml"
    assert load_config(CONF / "demo.yaml").hash() == load_config(default_config_path()).hash()


def test_seed_block_loads_as_is_with_defaults_for_the_rest() -> None:
    cfg = load_config(CONF / "seed.yaml")
    assert set(yaml.safe_load((CONF / "seed.yaml").read_text())) == {"hft"}
    assert cfg.hft.performance.isolated_cores == (2, 3)
    assert cfg.hft.latency.sample_rate == 0.01 and cfg.hft.latency.max_traces == 10_000
    assert cfg.hft.websocket.read_buffer_size == 65536 and cfg.hft.websocket.no_delay is True
    assert cfg.venue.name == "simulator" and [i.symbol for i in cfg.instruments] == ["BTCUSDT"]
    assert [s.type for s in cfg.strategies] == ["market_maker", "latency_probe"]
    core = cfg.to_core()
    assert core["hft"]["performance"]["isolated_cores"] == [2, 3]
    assert core["instruments"][0]["price_step"] == "0.01"


def test_normalised_dict_types() -> None:
    core = load_config({"risk": {"max_order_qty": 2, "price_band_bps": 100},
                        "instruments": [{"symbol": "ETHUSDT", "price_step": 0.01, "lot_step": 0.0001}],
                        "strategies": [{"type": "taker", "instrument": "ETHUSDT", "params": {"size": 1}}]}).to_core()
    assert core["risk"]["max_order_qty"] == 2.0 and isinstance(core["risk"]["max_order_qty"], float)
    assert isinstance(core["risk"]["max_open_orders"], int)
    assert core["instruments"][0]["price_step"] == "0.01"  # bare YAML numbers become decimal text
    assert core["instruments"][0]["lot_step"] == "0.0001"
    assert core["strategies"][0]["params"] == {"size": 1.0}
    assert core["simulator"]["balances"] == {"USDT": 10_000_000.0, "BTC": 1000.0}


def test_replay_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    cfg = load_config(CONF / "replay.yaml")
    files = cfg.simulator.replay_files
    assert [Path(f).name for f in files] == ["spot_btcusdt_20240808.gz", "spot_btcusdt_20240809.gz"]
    assert all(Path(f).is_absolute() and Path(f).is_file() for f in files)
    # The same config copied elsewhere with a relative path that does not exist there: a clear error.
    (tmp_path / "r.yaml").write_text((CONF / "replay.yaml").read_text())
    with pytest.raises(hftx.ConfigError, match=r"simulator\.replay_files\[0\].*no such file"):
        load_config(tmp_path / "r.yaml")
    os.environ["HFTX_TEST_DATA"] = str(Path(files[0]).parent)
    try:
        cfg2 = load_config({"simulator": {"mode": "replay",
                                          "replay_files": ["$HFTX_TEST_DATA/spot_btcusdt_20240808.gz"]}})
    finally:
        del os.environ["HFTX_TEST_DATA"]
    assert cfg2.simulator.replay_files == (files[0],)


def test_binance_endpoints_default_per_market() -> None:
    cfg = load_config({"venue": {"name": "binance", "market": "usdm"}})
    usdm = next(v for v in hftx.venues() if v.name == "binance").market("usdm")
    assert usdm is not None
    assert (cfg.venue.market_url, cfg.venue.api_url) == (usdm.market_url, usdm.api_url)
    spot = load_config(CONF / "binance.yaml")
    assert spot.venue.market_url == "wss://stream.binance.com:9443/stream"
    assert spot.venue.api_url == "wss://ws-api.binance.com:443/ws-api/v3"


# (YAML text, fragments that must all appear in the message)
BROKEN: list[tuple[str, list[str]]] = [
    ("venue: {name: kraken}", ["venue.name", '"kraken"', "'simulator'", "'binance'"]),
    ("risk: {max_order_qty: -1}", ["risk.max_order_qty", "-1", "> 0"]),
    ("risk: {max_order_qty: lots}", ["risk.max_order_qty", '"lots"', "expected a number"]),
    ("risk: {max_open_orders: 1.5}", ["risk.max_open_orders", "1.5", "expected an integer"]),
    ("strategies:\n  - {type: market_maker, instrument: BTCUSDT}\n  - {type: arbitrage, instrument: BTCUSDT}",
     ["strategies[1].type", '"arbitrage"', "'market_maker'", "'taker'", "'latency_probe'"]),
    ("strategies: [{type: taker, instrument: ETHUSDT}]",
     ["strategies[0].instrument", '"ETHUSDT"', "configured instruments", "BTCUSDT"]),
    ("strategies: [{type: taker}]", ["strategies[0].instrument", "required key is missing"]),
    ("strategies: [{type: taker, instrument: BTCUSDT, params: {size: big}}]",
     ["strategies[0].params.size", '"big"', "expected a number"]),
    ("instruments: [{symbol: BTCUSDT, price_step: '0.0x'}]",
     ["instruments[0].price_step", '"0.0x"', "decimal number"]),
    ("instruments: [{symbol: BTCUSDT, price_step: '-0.01'}]", ["instruments[0].price_step", "no sign"]),
    ("instruments: [{symbol: BTCUSDT, qty_step: '0.001', lot_step: '0.0001'}]",
     ["instruments[0].lot_step", "multiple of qty_step 0.001"]),
    ("instruments: [{symbol: BTCUSDT}, {symbol: BTCUSDT}]", ["instruments[1].symbol", "each symbol once"]),
    ("instruments: []", ["instruments", "at least one"]),
    ("hft: {performance: {isolated_cores: [2, -1]}}", ["hft.performance.isolated_cores[1]", "-1", ">= 0"]),
    ("hft: {performance: {isolated_cores: [2, 2]}}", ["hft.performance.isolated_cores", "each CPU at most once"]),
    ("hft: {performance: {isolated_cores: [two]}}", ["hft.performance.isolated_cores[0]", "expected an integer"]),
    ("hft: {latency: {sample_rate: 2}}", ["hft.latency.sample_rate", "<= 1"]),
    ("hft: {performance: {enable_lock_fre: true}}",
     ["hft.performance.enable_lock_fre", "unknown key", "did you mean 'enable_lock_free'"]),
    ("hft: {latency: {enable_tracking: 1}}", ["hft.latency.enable_tracking", "expected true or false"]),
    ("threading: {mode: pipelined, workers: 0}", ["threading.workers", "pipelined"]),
    ("threading: {mode: parallel}", ["threading.mode", "'inline'", "'pipelined'"]),
    ("simulator: {mode: replay}", ["simulator.replay_files", "at least one recorded file"]),
    ("simulator: {start_price: '60000.005'}", ["simulator.start_price", "price_step 0.01"]),
    ("simulator: {port: 70000}", ["simulator.port", "70000", "<= 65535"]),
    ("venue: {market_url: 'ws://127.0.0.1:9000/stream'}", ["venue.api_url", "both empty", "both set"]),
    ("venue: {market_url: 'http://x/stream', api_url: 'ws://x/ws-api/v3'}", ["venue.market_url", "ws://HOST"]),
    ("venue: {api_key_env: 'sk-live-123'}", ["venue.api_key_env", "NAME of an environment variable"]),
    ("venue: {client_id_prefix: 'far-too-long-prefix-x'}", ["venue.client_id_prefix"]),
    ("venue: {session_logon: yes}", ["venue.session_logon", "'auto'", "'always'", "'never'"]),
    ("metrics: {port: -1}", ["metrics.port", ">= 0"]),
    ("reprot: {dir: x}", ["reprot", "unknown block", "did you mean 'report'"]),
    ("risk: 5", ["risk", "mapping"]),
    ("- just\n- a list", ["<top level>", "expected a mapping"]),
    ("risk: {burst: 1}\nrisk: {burst: 2}", ["duplicate key 'risk'"]),
    ("risk: {burst: [1, 2}", ["not valid YAML", "line 1"]),
]


@pytest.mark.parametrize(("text", "fragments"), BROKEN, ids=[f"{i:02d}" for i in range(len(BROKEN))])
def test_broken_configs_say_what_is_wrong(tmp_path: Path, text: str, fragments: list[str]) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text + "\n")
    with pytest.raises(hftx.ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert str(path) in msg  # names the file
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in:\n{msg}"
    assert isinstance(info.value, ValueError)  # ConfigError is a ValueError and an HftxError
    assert isinstance(info.value, hftx.HftxError)


def test_all_problems_at_once_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        "# a comment\n"
        "venue:\n"
        "  name: simulatr\n"  # line 3
        "risk:\n"
        "  max_order_qty: 0\n"  # line 5
        "  burst: 1.5\n"  # line 6
        "strategies:\n"
        "  - {type: maker, instrument: BTCUSDT}\n"  # line 8
        "  - {type: taker, instrument: SOLUSDT, count: 0}\n"  # line 9
        "threading: {mode: pipelined, workers: 0}\n"  # line 10
    )
    with pytest.raises(hftx.ConfigError) as info:
        load_config(path)
    problems = info.value.problems  # type: ignore[attr-defined]
    got = {(p.path, p.line) for p in problems}
    assert got == {
        ("venue.name", 3), ("risk.max_order_qty", 5), ("risk.burst", 6), ("strategies[0].type", 8),
        ("strategies[1].count", 9), ("strategies[1].instrument", 9), ("threading.workers", 10),
    }, got
    msg = str(info.value)
    assert msg.startswith(f"{path}: 7 problems in the configuration")
    assert "line 3: venue.name = \"simulatr\": expected one of 'simulator', 'binance' or 'okx'" in msg
    # In file order.
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_missing_file() -> None:
    with pytest.raises(FileNotFoundError, match=r"no-such\.yaml: no such config file"):
        load_config("no-such.yaml")


def test_hash_is_stable_across_key_order_comments_and_output_blocks(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text("risk: {max_order_qty: 2.0, burst: 10}\nvenue: {name: simulator}\n")
    b.write_text("# same thing\nvenue:\n  name: simulator   # here\nrisk:\n  burst: 10\n  max_order_qty: 2\n"
                 "report: {dir: elsewhere}\nmetrics: {enabled: true}\n")
    ha, hb = load_config(a).hash(), load_config(b).hash()
    assert ha == hb and len(ha) == 64
    assert load_config({"risk": {"max_order_qty": 2.0, "burst": 10}}).hash() == ha
    assert load_config({"risk": {"max_order_qty": 2.5, "burst": 10}}).hash() != ha
    # Same value twice in a row, and a default written out equals the default left out.
    assert load_config(a).hash() == ha
    assert load_config({"risk": {"max_order_qty": 2.0, "burst": 10, "reject_storm": 50}}).hash() == ha


def test_config_is_frozen_and_replace_validates() -> None:
    cfg = load_config({})
    with pytest.raises(Exception, match="frozen"):
        cfg.risk.max_order_qty = 5.0  # type: ignore[misc]
    cfg2 = cfg.replace(report={"dir": "out"}, metrics={"enabled": True, "port": 0})
    assert cfg2.report.dir == "out" and cfg2.metrics.enabled and cfg2.metrics.port == 0
    assert cfg2.hash() == cfg.hash()
    with pytest.raises(hftx.ConfigError, match=r"metrics\.port"):
        cfg.replace(metrics={"port": 99999})


def test_load_config_is_exported() -> None:
    assert hftx.load_config is load_config
    assert hftx.Config is Config


def test_readme_configuration_reference_lists_every_key() -> None:
    """README's table of blocks and keys is the schema's, neither more nor less."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("| block | keys |", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        block, keys = (cell.strip() for cell in line.strip("|").split("|"))
        rows[block.strip("`")] = re.findall(r"`([a-z_]+)`", keys)

    def model_of(annotation: Any) -> Any:
        args = typing.get_args(annotation)
        return args[0] if args else annotation  # tuple[X, ...] -> X

    expected = {}
    for name, field in Config.model_fields.items():
        model = model_of(field.annotation)
        if name == "hft":
            for sub, sub_field in model.model_fields.items():
                expected[f"hft.{sub}"] = list(model_of(sub_field.annotation).model_fields)
        elif typing.get_origin(field.annotation) is tuple:
            expected[f"{name}[]"] = [f.alias or n for n, f in model.model_fields.items()]
        else:
            expected[name] = [f.alias or n for n, f in model.model_fields.items()]
    assert rows == expected


# ---- the schema is C++'s -----------------------------------------------------------------------------------

_VALID_BASE: dict[str, Any] = {"strategies": [{"type": "market_maker", "instrument": "BTCUSDT"}]}


def _keys() -> list[dict[str, Any]]:
    return [e for e in _core.config_schema() if e["type"] not in ("block", "list")]


def _with(path: str, value: object) -> dict[str, Any]:
    """A configuration (a dict, as YAML gives it) with one key of the schema set: instruments[].x on the first
    instrument, strategies[].x on the first strategy."""
    raw: dict[str, Any] = json.loads(json.dumps(_VALID_BASE))
    parts = path.split(".")
    if parts[0].endswith("[]"):
        name = parts[0][:-2]
        items = raw.setdefault(name, [{"symbol": "BTCUSDT"}] if name == "instruments" else [])
        items[0][parts[1]] = value
        return raw
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return raw


def _core_with(path: str, value: object) -> dict[str, Any]:
    """The normalised dict of a valid configuration (URLs set) with one key of the schema set, bypassing Python."""
    core = load_config(_VALID_BASE).to_core()
    core["venue"]["market_url"] = "ws://127.0.0.1:9/stream"
    core["venue"]["api_url"] = "ws://127.0.0.1:9/ws-api/v3"
    parts = path.split(".")
    node: Any = core
    for part in parts[:-1]:
        node = node[part[:-2]][0] if part.endswith("[]") else node[part]
    node[parts[-1]] = value
    return core


def _concrete(path: str) -> str:
    return path.replace("[]", "[0]")


def _python_refuses(path: str, value: object, at: str = "") -> bool:
    """Whether load_config names the key (or `at`, an item of it) with that value."""
    try:
        load_config(_with(path, value))
    except hftx.ConfigError as exc:
        return any(p.path == _concrete(path) + at for p in exc.problems)  # type: ignore[attr-defined]
    return False


def _cpp_refuses(path: str, value: object, at: str = "") -> bool:
    return any(p[0] == _concrete(path) + at for p in _core.config_problems(_core_with(path, value)))


def _bound_cases(entry: dict[str, Any]) -> list[tuple[object, object]]:
    """(just outside, at the bound) for each bound of a numeric key."""
    out: list[tuple[object, object]] = []
    lo, hi = entry["min"], entry["max"]
    if entry["type"] == "int":
        if lo is not None:
            out.append((lo if entry["min_exclusive"] else lo - 1, lo + 1 if entry["min_exclusive"] else lo))
        if hi is not None:
            out.append((hi + 1, hi))
    else:
        if lo is not None:
            out.append((lo if entry["min_exclusive"] else math.nextafter(lo, -math.inf),
                        math.nextafter(lo, math.inf) if entry["min_exclusive"] else lo))
        if hi is not None:
            out.append((math.nextafter(hi, math.inf), hi))
    return out


def test_python_and_cpp_agree_at_every_bound() -> None:
    """Every numeric bound of the C++ schema: Python and the C++ session both refuse just outside, both take the
    bound itself."""
    checked = 0
    for entry in _keys():
        path = entry["path"]
        at = "[0]" if entry["type"] == "int_list" else ""
        cases: list[tuple[object, object]] = _bound_cases({**entry, "type": "int"} if at else entry)
        for outside_value, inside_value in cases:
            outside = [outside_value] if at else outside_value
            inside = [inside_value] if at else inside_value
            assert _python_refuses(path, outside, at), (path, outside)
            assert _cpp_refuses(path, outside, at), (path, outside)
            assert not _python_refuses(path, inside, at), (path, inside)
            assert not _cpp_refuses(path, inside, at), (path, inside)
            checked += 1
    assert checked >= 35


def test_python_and_cpp_agree_on_choices_patterns_and_formats() -> None:
    checked = 0
    for entry in _keys():
        path = entry["path"]
        bad: list[object] = []
        if entry["choices"]:
            for choice in entry["choices"]:
                assert not _python_refuses(path, choice) and not _cpp_refuses(path, choice), (path, choice)
            bad.append("nope")
        if entry["pattern"] and entry["type"] == "str":
            bad.append("\t")
        if entry["format"] == "decimal_step":
            bad += ["0.0x", "0", "0." + "0" * 18 + "1"]  # 19 decimals: more than a Scale holds
        if entry["type"] == "bool":
            bad.append(1)
        if entry["unique"]:
            bad.append([1, 1])
        for value in bad:
            assert _python_refuses(path, value), (path, value)
            assert _cpp_refuses(path, value), (path, value)
            checked += 1
    assert checked >= 25


def test_pydantic_models_are_the_cpp_schema_key_for_key() -> None:
    """Every key of the C++ schema is a field of the pydantic models with the C++ default and doc, and the models
    have no other field than Python's own (the simulator, metrics and report blocks, `class`) and the venues'."""
    defaults = load_config({}).to_core()
    venue_keys = {o.key for v in hftx.venues() for o in v.options}
    schema_paths = set()
    for entry in _core.config_schema():
        path = entry["path"]
        schema_paths.add(path)
        if entry["type"] in ("block", "list"):
            continue
        block, _, key = path.rpartition(".")
        model: Any = Config
        for part in block.split("."):
            field = model.model_fields[part.removesuffix("[]")]
            args = typing.get_args(field.annotation)
            model = args[0] if part.endswith("[]") else field.annotation
        field = model.model_fields[key]
        assert field.description == entry["doc"], path
        assert field.is_required() == entry["required"], path
        if entry["required"]:
            continue
        node: Any = defaults
        for part in block.split("."):
            node = node[part.removesuffix("[]")][0] if part.endswith("[]") else node[part]
        assert node[key] == entry["default"], (path, node[key], entry["default"])

    def model_paths(model: Any, prefix: str) -> set[str]:
        out = set()
        for name, field in model.model_fields.items():
            path = f"{prefix}{field.alias or name}"
            out.add(path)
            inner = typing.get_args(field.annotation)[0] if typing.get_origin(field.annotation) is tuple \
                else field.annotation
            if isinstance(inner, type) and issubclass(inner, pydantic.BaseModel):
                suffix = "[]" if typing.get_origin(field.annotation) is tuple else ""
                out |= model_paths(inner, f"{path}{suffix}.")
        return out

    python_only = {"simulator", "metrics", "report", "strategies[].class"}
    extra = {p for p in model_paths(Config, "") - schema_paths if not p.startswith(tuple(python_only))}
    assert extra == {f"venue.{k}" for k in venue_keys}


def test_demo_shows_every_cpp_default() -> None:
    """conf/demo.yaml writes every key out with its C++ default (its instruments, strategies' params and the
    Python blocks aside)."""
    demo = load_config(CONF / "demo.yaml").to_core()
    for entry in _keys():
        path = entry["path"]
        if entry["required"] or entry["type"] == "float_map":
            continue
        node: Any = demo
        block, _, key = path.rpartition(".")
        for part in block.split("."):
            node = node[part.removesuffix("[]")][0] if part.endswith("[]") else node[part]
        assert node[key] == entry["default"], (path, node[key], entry["default"])


def test_cpp_reader_names_every_problem() -> None:
    """The C++ session's own reading of the dict (hftx._core.Session): wrong types, unknown keys and a key the
    venue does not declare, all at once with their paths."""
    core = load_config({}).to_core()
    core["risk"]["burst"] = "many"
    core["hft"]["latency"]["enable_tracking"] = 1
    core["threading"]["bogus"] = 1
    core["venue"]["channel"] = "books"
    core["instruments"][0]["snapshot_depth"] = 2.5
    with pytest.raises(hftx.ConfigError) as info:
        _core.Session(core)
    msg = str(info.value)
    assert msg.startswith("5 problems in the configuration:"), msg
    for frag in ("risk.burst = 'many': expected an integer", "hft.latency.enable_tracking = 1: expected true or false",
                 "threading.bogus: unknown key",
                 "venue.channel: a key of venue 'okx', but the session speaks 'binance'; binance's keys: depth_stream",
                 "instruments[0].snapshot_depth = 2.5: expected an integer"):
        assert frag in msg, msg
    # The Python-only blocks are not the session's: skipped. None keeps the default.
    core = load_config({}).to_core()
    core["risk"]["burst"] = None
    core["venue"]["market_url"] = "ws://127.0.0.1:9/stream"
    core["venue"]["api_url"] = "ws://127.0.0.1:9/ws-api/v3"
    assert _core.config_problems(core) == []


# ---- venues ------------------------------------------------------------------------------------------------


def test_venues_come_from_the_registry() -> None:
    venues = hftx.venues()
    assert [v.name for v in venues] == [v["name"] for v in _core.venues()]
    binance = next(v for v in venues if v.name == "binance")
    assert [m.name for m in binance.markets] == ["spot", "usdm", "coinm"]
    assert binance.market("spot") == hftx.venue.Market("spot", "wss://stream.binance.com:9443/stream",
                                                       "wss://ws-api.binance.com:443/ws-api/v3")
    recv_window = binance.option("recv_window_ms")
    assert recv_window is not None and recv_window.default == 5000
    assert binance.snapshot_depths == (5, 10, 20, 50, 100, 500, 1000, 5000)
    url = next(e for e in _core.config_schema() if e["path"] == "venue.market_url")["pattern"]
    for v in venues:
        assert v.markets and v.doc and v.symbol_pattern
        for m in v.markets:
            assert re.fullmatch(url, m.market_url) and re.fullmatch(url, m.api_url), m
        for o in v.options:
            assert o.check(o.default) == o.default, o  # a default the venue takes
        # Any real venue with empty URLs gets its public endpoints for the market.
        symbol = next(s for s in ("BTCUSDT", "BTC-USDT") if re.fullmatch(v.symbol_pattern, s))
        for m in v.markets:
            cfg = load_config({"venue": {"name": v.name, "market": m.name}, "instruments": [{"symbol": symbol}]})
            assert (cfg.venue.market_url, cfg.venue.api_url) == (m.market_url, m.api_url)


def test_venue_keys_are_the_protocol_venues() -> None:
    cfg = load_config({"venue": {"depth_stream": "depth", "recv_window_ms": 60000}})
    assert cfg.venue.depth_stream == "depth" and cfg.venue.session_logon == "auto"  # default from the OptionSpec
    core = cfg.to_core()["venue"]
    assert {k: core[k] for k in ("depth_stream", "session_logon", "recv_window_ms")} == {
        "depth_stream": "depth", "session_logon": "auto", "recv_window_ms": 60000}
    with pytest.raises(hftx.ConfigError) as info:
        load_config({"venue": {"recv_window_ms": 60001, "depth_speed": "fast", "market": "swap"}})
    msg = str(info.value)
    assert "venue.recv_window_ms = 60001: expected a value <= 60000" in msg
    assert "venue.depth_speed = \"fast\": unknown key (did you mean 'depth_stream'?)" in msg
    assert "venue.market = \"swap\": expected one of binance's markets: 'spot', 'usdm' or 'coinm'" in msg


# A venue of this test beside the registry's: its own keys, markets, instrument names.
_TESTEX = {
    "name": "testex", "doc": "a venue of the tests",
    "markets": [{"name": "swap", "market_url": "wss://ws.testex.example/public",
                 "api_url": "wss://ws.testex.example/private"}],
    "options": [{"key": "test_channel", "kind": "choice", "default": "books", "choices": ["books", "bbo"],
                 "min": None, "max": None, "pattern": "", "expected": "", "doc": "book channel"}],
    "symbol_pattern": "^[A-Z]+-[A-Z]+$", "client_id_prefix_pattern": "^[a-z]{0,8}$", "snapshot_depths": [],
}


@pytest.fixture
def fresh_config(monkeypatch: pytest.MonkeyPatch) -> typing.Iterator[typing.Callable[[], types.ModuleType]]:
    """hftx/config.py executed again as a new module, after the test patched what _core says (the venue
    registry, the schema): what the module builds comes from _core only. hftx.config itself is left as it is."""
    hftx.venue.venues.cache_clear()

    def load() -> types.ModuleType:
        hftx.venue.venues.cache_clear()
        spec = importlib.util.spec_from_file_location("hftx_config_copy", hftx.config.__file__)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, "hftx_config_copy", module)
        spec.loader.exec_module(module)
        return module

    yield load
    monkeypatch.undo()
    hftx.venue.venues.cache_clear()


def test_a_key_of_another_venue_names_it_and_the_venues(
        fresh_config: typing.Callable[[], types.ModuleType], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    registry = _core.venues()
    monkeypatch.setattr(_core, "venues", lambda: [*registry, _TESTEX])
    config = fresh_config()
    path = tmp_path / "v.yaml"
    path.write_text("venue:\n  name: simulator\n  test_channel: bbo\n")
    with pytest.raises(hftx.ConfigError) as info:
        config.load_config(path)
    assert ("line 3: venue.test_channel = \"bbo\": a key of venue 'testex', but the session speaks 'binance'; "
            "binance's keys: depth_stream, session_logon, recv_window_ms (venues: 'binance', 'okx', 'testex')"
            in str(info.value)), str(info.value)
    path.write_text("venue:\n  dialect: testex\n  depth_stream: depth\n")
    with pytest.raises(hftx.ConfigError, match=r"line 3: venue\.depth_stream = \"depth\": a key of venue 'binance', "
                       r"but the session speaks 'testex'; testex's keys: test_channel"):
        config.load_config(path)
    with pytest.raises(hftx.ConfigError, match=r"venue\.name = \"kraken\": expected one of 'simulator', 'binance', "
                       r"'okx' or 'testex'"):
        config.load_config({"venue": {"name": "kraken"}})

    # Speaking testex: its keys with their defaults, none of Binance's; its markets, names, endpoints.
    cfg = config.load_config({"venue": {"name": "testex", "market": "swap"},
                              "instruments": [{"symbol": "BTC-USDT"}], "strategies": []})
    core = cfg.to_core()["venue"]
    assert core["test_channel"] == "books" and "depth_stream" not in core
    assert (core["market_url"], core["api_url"]) == ("wss://ws.testex.example/public", "wss://ws.testex.example/private")
    with pytest.raises(hftx.ConfigError) as info:
        config.load_config({"venue": {"dialect": "testex", "market": "spot", "client_id_prefix": "HX"}})
    msg = str(info.value)
    assert "venue.market = \"spot\": expected one of testex's markets: 'swap'" in msg
    assert "venue.client_id_prefix = \"HX\": expected text matching ^[a-z]{0,8}$ (testex's client order ids)" in msg
    assert "instruments[0].symbol = \"BTCUSDT\": expected a testex instrument name matching ^[A-Z]+-[A-Z]+$" in msg
    # Back to the registry's venues: the name is refused again.
    monkeypatch.setattr(_core, "venues", lambda: registry)
    assert "testex" not in str(fresh_config().VenueConfig.model_fields["name"].annotation)


def test_a_cpp_default_changed_is_seen_by_python(fresh_config: typing.Callable[[], types.ModuleType],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Python writes no default: a default C++ changes (here: what _core.config_schema() says) is the model's."""
    assert load_config({}).risk.burst == next(e["default"] for e in _core.config_schema() if e["path"] == "risk.burst")
    schema = _core.config_schema()
    for entry in schema:
        if entry["path"] == "risk.burst":
            entry["default"] = 7
        if entry["path"] == "threading.queue_capacity":
            entry["max"] = 1 << 10
    monkeypatch.setattr(_core, "config_schema", lambda: schema)
    config = fresh_config()
    cfg = config.load_config({})
    assert cfg.risk.burst == 7 and cfg.to_core()["risk"]["burst"] == 7
    with pytest.raises(hftx.ConfigError, match=r"threading\.queue_capacity = 2048: expected a value <= 1024"):
        config.load_config({"threading": {"queue_capacity": 2048}})
