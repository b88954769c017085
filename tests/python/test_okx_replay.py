"""Replaying recorded OKX streams (venues/okx/okx_books-l2-tbt_20220227.gz: cryptofeed's sample data, recorded by
cryptofeed, by Bryant Moscon) through the API and the CLI. The expected counts are computed from the file here,
not written down: every book message carries a checksum, and the replay matches every one."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import hftx
from hftx.cli import main

OKX = "venues/okx/okx_books-l2-tbt_20220227.gz"


def _lines(data_dir: Path) -> list[str]:
    with gzip.open(data_dir / OKX, "rt") as f:
        return f.read().splitlines()


def _expected(lines: list[str]) -> dict[str, Any]:
    """What the file holds, read with the json module: book messages per instrument, their checksums."""
    books: Counter[str] = Counter()
    actions: Counter[str] = Counter()
    checksums = 0
    for line in lines:
        head, sep, body = line.partition(": ")
        if not sep or " " in head or not body.startswith("{"):
            continue
        msg = json.loads(body)
        arg = msg.get("arg", {})
        if "event" in msg or arg.get("channel") != "books-l2-tbt":
            continue
        books[arg["instId"]] += 1
        actions[msg["action"]] += 1
        checksums += sum(1 for d in msg["data"] if d.get("checksum", 0) != 0)
    return {"books": books, "actions": actions, "checksums": checksums}


def _check_clean(r: dict[str, Any], want: dict[str, Any]) -> None:
    assert r["venue"] == "okx"
    assert r["credit"] == "cryptofeed, by Bryant Moscon"
    assert r["parse_errors"] == 0, r["first_parse_error"]
    assert r["lines"] == r["messages"] + r["control_lines"] + r["skipped_lines"] + r["parse_errors"]
    assert r["snapshots"] == want["actions"]["snapshot"]
    assert r["depth_updates"] == want["actions"]["update"]
    assert r["checksums_checked"] == want["checksums"] > 3000
    assert r["checksums_matched"] == r["checksums_checked"]
    assert r["checksum_mismatches"] == 0 and r["gaps"] == 0 and r["crossed"] == 0 and r["resync_requests"] == 0
    assert {x["inst_id"] for x in r["instruments"]} == set(want["books"])
    for x in r["instruments"]:
        assert x["snapshots"] + x["depth_updates"] == want["books"][x["inst_id"]]
        assert x["checksums_matched"] == x["checksums_checked"] == x["snapshots"] + x["depth_updates"]
        assert x["state"] == "synced" and not x["crossed_at_end"]
    for key in ("snapshots", "depth_updates", "trades", "checksums_checked", "level_updates", "parse_errors"):
        assert sum(x[key] for x in r["instruments"]) == r[key], key


def test_replay_api_files_and_lines(data_dir: Path) -> None:
    lines = _lines(data_dir)
    want = _expected(lines)
    r = hftx.replay([data_dir / OKX], venue="okx")
    _check_clean(r, want)
    assert r["skipped"] == {"other_channel": sum('"channel":"tickers"' in line and '"data"' in line for line in lines)}
    in_memory = hftx.replay_lines(lines, venue="okx")
    _check_clean(in_memory, want)
    assert hftx.replay_lines([line.encode() for line in lines], venue="okx")["instruments"] == in_memory["instruments"]
    # books_only: the trades skipped unparsed, the books the same.
    books = hftx.replay([data_dir / OKX], venue="okx", books_only=True)
    assert books["trades"] == 0 and books["skipped"]["books_only"] == r["trades"] > 0
    assert books["checksums_matched"] == r["checksums_matched"]


def test_replay_steps_given(data_dir: Path) -> None:
    r = hftx.replay([data_dir / OKX], venue="okx", steps={"UNI-USD-SWAP": ("0.01", "1")})
    uni = next(x for x in r["instruments"] if x["inst_id"] == "UNI-USD-SWAP")
    assert uni["price_step"] == "0.01"
    assert uni["parse_errors"] == r["parse_errors"] > 0  # its prices are written to 0.001
    assert r["parse_errors_by_reason"] == {"bad_number": r["parse_errors"]}
    assert "off_grid" in r["first_parse_error"]


def test_replay_venue_errors(data_dir: Path) -> None:
    with pytest.raises(hftx.ConfigError, match="venue"):
        hftx.replay([data_dir / OKX], venue="kraken")
    with pytest.raises(hftx.ConfigError, match="market"):
        hftx.replay([data_dir / OKX], venue="okx", market="spot")
    with pytest.raises(hftx.ConfigError, match="steps"):
        hftx.replay_lines(["1 {}"], steps={"X": ("1", "1")})
    assert main(["replay", "--venue", "okx", "--market", "spot", str(data_dir / OKX)]) == 2


def test_cli_okx_json_table_and_strict(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = _lines(data_dir)
    want = _expected(lines)
    assert main(["replay", "--venue", "okx", str(data_dir / OKX), "--json", "--strict"]) == 0
    _check_clean(json.loads(capsys.readouterr().out), want)
    assert main(["replay", "--venue", "okx", str(data_dir / OKX)]) == 0
    out = capsys.readouterr().out
    assert "cryptofeed, by Bryant Moscon" in out
    for inst in want["books"]:
        assert inst in out
    assert f"{want['checksums']:,}" in out
    # A corrupted copy: the best bid of one instrument's first snapshot gets another size. --strict fails, and the
    # report names that instrument alone; the snapshot of its second subscription (in the recording) resyncs it.
    victim = "ELON-USDT"
    at = next(i for i, line in enumerate(lines) if f'"instId":"{victim}"}},"action":"snapshot"' in line)
    head, body = lines[at].split(": ", 1)
    msg = json.loads(body)
    level = msg["data"][0]["bids"][0]
    old = json.dumps(level, separators=(",", ":"))
    assert "." not in level[1]  # ELON-USDT's sizes are whole: one more is on its grid
    level[1] = str(int(level[1]) + 1)
    new = json.dumps(level, separators=(",", ":"))
    assert old in body
    lines[at] = head + ": " + body.replace(old, new, 1)
    damaged = tmp_path / "okx_damaged.gz"
    with gzip.open(damaged, "wt") as f:
        f.write("\n".join(lines) + "\n")
    assert main(["replay", "--venue", "okx", str(damaged), "--json", "--strict"]) == 1
    r = json.loads(capsys.readouterr().out)
    assert r["parse_errors"] == 0
    by_inst = {x["inst_id"]: x for x in r["instruments"]}
    assert by_inst[victim]["checksum_mismatches"] == 1 and by_inst[victim]["resync_requests"] == 1
    assert by_inst[victim]["state"] == "synced"
    assert all(x["checksum_mismatches"] == 0 and x["resync_requests"] == 0 for k, x in by_inst.items() if k != victim)
    assert main(["replay", "--venue", "okx", str(damaged)]) == 0  # without --strict: the report, status 0
    capsys.readouterr()
