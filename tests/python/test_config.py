"""Configuration: every conf/*.yaml loads, broken configs say what is wrong (all at once, with key paths,
values, expectations, file and line), and the hash is stable."""

from __future__ import annotations

import json
import os
import re
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

import hftx
from hftx.config import BINANCE_ENDPOINTS, Config, load_config
from hftx.session import default_config_path

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf"

pytestmark = pytest.mark.filterwarnings("error")


def test_every_shipped_config_loads() -> None:
    names = sorted(p.name for p in CONF.glob("*.yaml"))
    assert names == ["binance.yaml", "demo.yaml", "python.yaml", "replay.yaml", "seed.yaml", "stress.yaml"]
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
    assert (cfg.venue.market_url, cfg.venue.api_url) == BINANCE_ENDPOINTS["usdm"]
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
    assert "line 3: venue.name = \"simulatr\": expected one of 'simulator' or 'binance'" in msg
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
