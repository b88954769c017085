"""Fixed-point parse/format through the bindings, checked against Python's decimal.Decimal."""

from __future__ import annotations

import re
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hftx

STEPS = ["1", "0.01", "0.00001", "0.00000001", "0.5", "0.25", "25", "0.000000000000000001"]
GRAMMAR = re.compile(r"-?[0-9]+(\.[0-9]+)?")
INT64_MAX = 2**63 - 1


def expected(text: str, step: str, signed: bool) -> tuple[str, int | None]:
    """The reference: what an exact decimal parser on the step grid must answer."""
    if text == "":
        return "empty", None
    if text.startswith("-") and not signed:
        return "negative", None
    if not GRAMMAR.fullmatch(text):
        return "bad_format", None
    scale = hftx.Scale(step)
    with localcontext() as ctx:
        ctx.prec = 200
        units = Decimal(text).scaleb(scale.decimals)  # value in 10**-decimals units, exact
        if int(abs(units)) > INT64_MAX:
            return "overflow", None
        if units != units.to_integral_value() or int(units) % scale.multiplier:
            return "off_grid", None
        return "ok", int(units) // scale.multiplier


def check(text: str, step: str, signed: bool) -> None:
    status, value = expected(text, step, signed)
    got = hftx.Scale(step).try_parse(text, signed=signed)
    assert got == (status, value), f"{text!r} at step {step} (signed={signed})"
    if status == "ok":
        assert hftx.Scale(step).parse(text, signed=signed) == value
    else:
        with pytest.raises(hftx.ParseError, match=re.escape(repr(text))):
            hftx.Scale(step).parse(text, signed=signed)


@settings(max_examples=3000, deadline=None)
@given(st.from_regex(r"-?[0-9]{1,25}(\.[0-9]{1,25})?", fullmatch=True), st.sampled_from(STEPS), st.booleans())
def test_decimal_strings_agree_with_decimal(text: str, step: str, signed: bool) -> None:
    check(text, step, signed)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789.-+e ,x", max_size=30), st.sampled_from(STEPS), st.booleans())
def test_arbitrary_strings_agree_with_decimal(text: str, step: str, signed: bool) -> None:
    check(text, step, signed)


@settings(max_examples=3000, deadline=None)
@given(st.integers(-INT64_MAX, INT64_MAX), st.sampled_from(STEPS), st.integers(0, 8))
def test_on_grid_values_round_trip(raw: int, step: str, extra_zeros: int) -> None:
    scale = hftx.Scale(step)
    with localcontext() as ctx:
        ctx.prec = 200
        value = Decimal(raw) * Decimal(step)
        reference = f"{value:.{scale.decimals}f}"
    text = scale.format(raw)
    assert text == reference
    # Venues pad with zeros ("61837.63000000"): still the same value.
    padded = text + ("." if scale.decimals == 0 and extra_zeros else "") + "0" * extra_zeros
    if int(abs(Decimal(text).scaleb(scale.decimals))) <= INT64_MAX:
        assert scale.parse(padded) == raw


@pytest.mark.parametrize(
    ("text", "status"),
    [("", "empty"), ("1e5", "bad_format"), ("--1", "bad_format"), ("0.1.2", "bad_format"), (" 1", "bad_format"),
     ("1 ", "bad_format"), ("1" * 40, "overflow"), ("61837.635", "off_grid"), ("61837.63000000", "ok")],
)
def test_issue_error_cases(text: str, status: str) -> None:
    assert hftx.Scale("0.01").try_parse(text)[0] == status


def test_negative_only_where_signed() -> None:
    tick = hftx.Scale("0.1")
    assert tick.parse("-0.5") == -5
    assert tick.try_parse("-0.5", signed=False) == ("negative", None)


def test_real_binance_strings(data_dir: object) -> None:
    import gzip
    import json
    from pathlib import Path

    assert isinstance(data_dir, Path)
    # Book quantities are sums of orders: finer than the order lot (0.00001), on Binance's 8-decimal grid.
    tick, lot = hftx.Scale("0.01"), hftx.Scale("0.00000001")
    checked = 0
    with gzip.open(data_dir / "binance" / "spot_btcusdt_20240808.gz", "rt") as f:
        for line in f:
            msg = json.loads(line.split(" ", 1)[1])
            data = msg.get("data", {})
            if data.get("e") != "depthUpdate":
                continue
            for price, qty in data.get("b", []) + data.get("a", []):
                assert tick.parse(price, signed=False) == expected(price, "0.01", False)[1]
                assert lot.parse(qty, signed=False) == expected(qty, "0.00000001", False)[1]
                assert Decimal(tick.format(tick.parse(price))) == Decimal(price)
                checked += 1
            if checked > 20_000:
                break
    assert checked > 20_000


def test_scale_errors_name_the_step() -> None:
    for bad in ["0", "-1", "1e-2", "abc", ""]:
        with pytest.raises(hftx.ConfigError, match=re.escape(f"'{bad}'")):
            hftx.Scale(bad)
    assert issubclass(hftx.ConfigError, ValueError)
    assert issubclass(hftx.ConfigError, hftx.HftxError)


def test_scale_properties() -> None:
    s = hftx.Scale("0.00001000")
    assert (s.decimals, s.multiplier, s.step) == (5, 1, "0.00001")
    assert hftx.Scale("0.5") == hftx.Scale("0.50")
    assert repr(hftx.Scale("25")) == "Scale('25')"
    assert hftx.Scale("0.01").to_float(6183763) == pytest.approx(61837.63)
