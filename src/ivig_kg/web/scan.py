"""A small SPARQL lexer that finds what must never reach the network: SERVICE, LOAD, FROM.

pyoxigraph 0.5 *does* execute ``SERVICE <http://...>`` over HTTP by itself
(verified: a loopback listener receives a POST), and ``LOAD`` fetches in an
update. So the server inspects every query before it runs. The scan is
lexical and conservative: it skips strings, IRIs and comments exactly as the
SPARQL grammar tokenizes them and flags any ``SERVICE`` or ``LOAD`` keyword
anywhere, so it can refuse a harmless query but never lets one through.
It also reads the dataset clauses (``FROM``/``FROM NAMED``) with their IRIs
resolved against ``PREFIX``/``BASE`` declarations and our predeclared prefixes,
and tells the query form (SELECT, ASK, CONSTRUCT, DESCRIBE) for content negotiation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from urllib.parse import urljoin

from ivig_kg.vocab import PREFIXES

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7-\uFFFF]+)
  | (?P<pname>(?:[A-Za-z\u00C0-\uFFFF][\w.\-\u00B7-\uFFFF]*)?:(?:[\w\-\u00B7-\uFFFF:%.\\]*[\w\-\u00B7-\uFFFF:%])?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"})


@dataclass
class Scan:
    """What the lexer saw in one query or update."""

    form: str | None = None
    """SELECT, ASK, CONSTRUCT or DESCRIBE (None for an update or unreadable text)."""
    service: bool = False
    load: bool = False
    update: bool = False
    """An update keyword (INSERT, DELETE, LOAD...) stands where a query form should."""
    from_graphs: list[str] = field(default_factory=list)
    from_named: list[str] = field(default_factory=list)


def _tokens(text: str) -> list[tuple[str, str]]:
    return [(m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(text)
            if m.lastgroup not in ("ws", "comment")]


CACHED_TEXT_CHARS = 16_384
"""Queries up to this size have their scan cached: clients repeat the same queries (canned ones,
dashboards), and lexing a 3 KB query costs ~150 us, a tenth of answering it."""


def scan(text: str) -> Scan:
    """Lex ``text`` (a query or an update) and report its form, SERVICE/LOAD use and dataset IRIs."""
    if len(text) > CACHED_TEXT_CHARS:
        return _scan(text)
    seen = _cached_scan(text)
    return replace(seen, from_graphs=list(seen.from_graphs), from_named=list(seen.from_named))


@lru_cache(maxsize=128)
def _cached_scan(text: str) -> Scan:
    return _scan(text)


def _scan(text: str) -> Scan:
    out = Scan()
    toks = _tokens(text)
    prefixes = dict(PREFIXES)
    base: str | None = None

    def resolve(kind: str, value: str) -> str | None:
        if kind == "iri":
            iri = value[1:-1]
            return urljoin(base, iri) if base and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", iri) else iri
        if kind == "pname":
            prefix, _, local = value.partition(":")
            ns = prefixes.get(prefix)
            return ns + local.replace("\\", "") if ns is not None else value
        return None

    i = 0
    while i < len(toks):
        kind, value = toks[i]
        upper = value.upper() if kind == "word" else ""
        if upper == "PREFIX" and i + 2 < len(toks) and toks[i + 1][0] == "pname" and toks[i + 2][0] == "iri":
            name = toks[i + 1][1].rstrip(":")
            prefixes[name] = resolve("iri", toks[i + 2][1]) or ""
            i += 3
            continue
        if upper == "BASE" and i + 1 < len(toks) and toks[i + 1][0] == "iri":
            base = resolve("iri", toks[i + 1][1])
            i += 2
            continue
        if upper == "SERVICE":
            out.service = True
        elif upper == "LOAD":
            out.load = True
        if upper in FORMS and out.form is None and not out.update:
            out.form = upper
        elif upper in UPDATE_WORDS and out.form is None:
            out.update = True
        if upper == "FROM" and i + 1 < len(toks):
            named = toks[i + 1][0] == "word" and toks[i + 1][1].upper() == "NAMED"
            j = i + 2 if named else i + 1
            if j < len(toks):
                iri = resolve(*toks[j])
                if iri is not None:
                    (out.from_named if named else out.from_graphs).append(iri)
        i += 1
    return out
