"""The venues built into hftx, as the C++ registry declares them: ``hftx.venues()``.

Each venue lists its markets with their public endpoints (the first market is the venue's default), its own
configuration keys (``venue.<key>`` in YAML, flat beside the common keys: kind, default, choices or range, one line
of doc), the rule for its instrument names and for client order id prefixes, and the depths its snapshot requests
accept. Nothing here is written in Python: it is read once from ``_core.venues()`` (``cpp/src/registry.cpp``
lists the venues, ``venue/<name>/venue.hpp`` declares each one).

``venue.name`` is :data:`SIMULATOR` (the built-in exchange simulator, which speaks ``venue.dialect``) or one of
these venues.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from hftx import _core

__all__ = ["SIMULATOR", "Market", "Venue", "VenueOption", "find_venue", "venues"]

#: ``venue.name`` of the built-in exchange simulator.
SIMULATOR: str = _core.simulator_name()


def or_list(items: tuple[str, ...] | list[str]) -> str:
    """'a', 'b' or 'c' (as the configuration's messages list choices)."""
    quoted = [f"'{x}'" for x in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


@dataclass(frozen=True)
class Market:
    """A market of a venue and its public endpoints."""

    name: str
    market_url: str  # market streams
    api_url: str  # orders


@dataclass(frozen=True)
class VenueOption:
    """One of a venue's own configuration keys (``venue.<key>``)."""

    key: str
    kind: str  # choice | integer | env_name
    default: str | int
    choices: tuple[str, ...]  # kind choice
    min: int | None  # kind integer
    max: int | None
    pattern: str  # kind env_name: what the value must match ...
    expected: str  # ... and what a mismatch is told
    doc: str

    def check(self, value: object) -> str | int:
        """The value, when this key takes it; raises ValueError saying what was expected."""
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise ValueError(f"expected one of {or_list(self.choices)}")
        if self.kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError("expected an integer")
            if self.min is not None and value < self.min:
                raise ValueError(f"expected a value >= {self.min}")
            if self.max is not None and value > self.max:
                raise ValueError(f"expected a value <= {self.max}")
            return value
        if not isinstance(value, str):
            raise ValueError("expected a string")
        if not re.fullmatch(self.pattern, value):
            raise ValueError(f"expected {self.expected}")
        return value


@dataclass(frozen=True)
class Venue:
    """A venue built into hftx (``hftx.venues()``)."""

    name: str
    doc: str
    markets: tuple[Market, ...]  # the first is the default
    options: tuple[VenueOption, ...]
    symbol_pattern: str  # instruments[].symbol
    client_id_prefix_pattern: str  # venue.client_id_prefix
    snapshot_depths: tuple[int, ...]  # instruments[].snapshot_depth (empty: the key is unused)

    def market(self, name: str) -> Market | None:
        return next((m for m in self.markets if m.name == name), None)

    def option(self, key: str) -> VenueOption | None:
        return next((o for o in self.options if o.key == key), None)


@functools.cache
def venues() -> tuple[Venue, ...]:
    """Every venue built in, in registration order."""
    out = []
    for v in _core.venues():
        out.append(Venue(
            name=v["name"], doc=v["doc"],
            markets=tuple(Market(m["name"], m["market_url"], m["api_url"]) for m in v["markets"]),
            options=tuple(VenueOption(key=o["key"], kind=o["kind"], default=o["default"], choices=tuple(o["choices"]),
                                      min=o["min"], max=o["max"], pattern=o["pattern"], expected=o["expected"],
                                      doc=o["doc"]) for o in v["options"]),
            symbol_pattern=v["symbol_pattern"], client_id_prefix_pattern=v["client_id_prefix_pattern"],
            snapshot_depths=tuple(v["snapshot_depths"]),
        ))
    return tuple(out)


def find_venue(name: object) -> Venue | None:
    """The venue of that name, or None."""
    return next((v for v in venues() if v.name == name), None)


def foreign_key(protocol: Venue, key: str) -> str:
    """What a ``venue.<key>`` that the protocol's venue does not declare is told (as the C++ check says it)."""
    owner = next((v.name for v in venues() if v.option(key) is not None), None)
    whose = (f"a key of venue '{owner}', but the session speaks '{protocol.name}'" if owner is not None
             else "not a venue key")
    mine = ", ".join(o.key for o in protocol.options) or "none"
    names = ", ".join(f"'{v.name}'" for v in venues())
    return f"{whose}; {protocol.name}'s keys: {mine} (venues: {names})"
