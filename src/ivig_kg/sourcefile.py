"""Read a source file: YAML (safely, with line numbers) -> validated model + located quotes.

Everything a curator can get wrong is reported here as a :class:`SourceError`
naming the file, line and column, so that nothing downstream sees bad data.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ivig_kg.errors import Location, SourceError, SourceErrors
from ivig_kg.model import Article

MAX_SOURCE_BYTES = 5 * 1024 * 1024
"""Larger source files are refused before parsing: a curated article is a few kB."""

MAX_TEXT_BYTES = 20 * 1024 * 1024

try:  # libyaml's C parser where present: same grammar, several times faster
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader  # type: ignore[misc,unused-ignore]

Path_ = tuple[str | int, ...]

_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:str"}
_SCALARS = yaml.constructor.SafeConstructor()
"""Builds int, bool and null values; its per-tag functions keep no state between calls."""
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_LEADING_ZERO_RE = re.compile(r"^[-+]?0[0-9][0-9_]*(?:\.[0-9_]*)?$")
"""A plain scalar such as 0318, 0310 or 00.5: YAML 1.1 reads it as octal, text or a float."""


@dataclass(frozen=True)
class Span:
    """A quote located in the article text: ``text[start:end] == quote``."""

    start: int
    end: int
    quote: str


@dataclass
class SourceArticle:
    """A loaded, checked article: the model, its text and where each quote sits."""

    path: Path
    text_path: Path
    text: str
    article: Article
    spans: dict[str, Span] = field(default_factory=dict)
    """Each distinct quote string -> its unique place in the text."""

    @property
    def id(self) -> str:
        return self.article.commentary.id


def _read_text(path: Path, limit: int, what: str) -> str:
    """Read a text file as UTF-8, refusing (before reading it all) anything over ``limit`` bytes.

    The size is checked both from ``stat`` and while reading, so a pipe or a
    file growing under us cannot make the loader use unbounded memory.
    """
    try:
        size = path.stat().st_size
        if size > limit:
            raise _TooBig(size)
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise _TooBig(len(data))
    except _TooBig as big:
        raise SourceError(
            f"{what} is {big.size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit",
            location=Location(path),
            hint="a source file describes one article; split the data or check you named the right file",
        ) from None
    except FileNotFoundError:
        raise SourceError(f"{what} not found", location=Location(path)) from None
    except IsADirectoryError:
        raise SourceError(f"{what} is a directory, not a file", location=Location(path)) from None
    except OSError as exc:
        raise SourceError(f"cannot read {what}: {exc.strerror}", location=Location(path)) from None
    if b"\x00" in data:
        raise SourceError(f"{what} is binary (it contains NUL bytes), not text", location=Location(path),
                          hint="give the YAML source file (or plain-text article) saved as UTF-8 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(
            f"{what} is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            location=Location(path, line, col),
            hint="save the file as UTF-8",
        ) from None
    return text.removeprefix("\ufeff")


class _TooBig(Exception):
    def __init__(self, size: int):
        self.size = size


def _plain(node: yaml.Node, path: Path_, marks: dict[Path_, yaml.Mark], seen: set[int], file: Path) -> Any:
    """Turn a composed YAML node into plain data, recording each value's position.

    Aliases are refused (they are never needed in a source file, and they are
    how YAML "billion laughs" bombs are built); floats become exact ``Decimal``
    so that ``0.80`` keeps its lexical form.
    """
    if id(node) in seen:
        raise SourceError(
            "YAML aliases (*name) are not allowed in source files",
            location=Location(file, node.start_mark.line + 1, node.start_mark.column + 1),
            hint="write the value out in full",
        )
    seen.add(id(node))
    marks[path] = node.start_mark
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _COLLECTION_TAGS:
        raise SourceError(f"unsupported YAML tag {node.tag.replace('tag:yaml.org,2002:', '!!')}",
                          location=_loc(file, node.start_mark),
                          hint="remove the tag: source files hold plain text, numbers, lists and mappings")
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise SourceError("mapping keys must be plain words", location=_loc(file, key_node.start_mark))
            key = key_node.value
            if key in out:
                first = marks[(*path, key, "__key__")]
                raise SourceError(f"duplicate key {key!r} (first at line {first.line + 1})",
                                  location=_loc(file, key_node.start_mark),
                                  hint="each key appears once per entry: remove or merge one of them")
            marks[(*path, key, "__key__")] = key_node.start_mark
            out[key] = _plain(value_node, (*path, key), marks, seen, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v, (*path, i), marks, seen, file) for i, v in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    if not node.style and node.tag in _NUMBER_TAGS and _LEADING_ZERO_RE.match(node.value):
        raise SourceError(
            f"number {node.value!r} has a leading zero (YAML reads such numbers as octal or as text)",
            location=_loc(file, node.start_mark),
            hint=f"write it without the leading zero ({node.value.lstrip('+-0') or '0'}), or quote it if it is text")
    if node.tag == "tag:yaml.org,2002:float":
        try:
            return Decimal(node.value.replace("_", ""))
        except ArithmeticError:
            return node.value
    if node.tag in {"tag:yaml.org,2002:int", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"}:
        return _SCALARS.yaml_constructors[node.tag](_SCALARS, node)
    if node.tag in {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"}:
        return node.value  # keep as text; the model says what type it wants
    if node.tag != "tag:yaml.org,2002:str":
        raise SourceError(f"unsupported YAML tag {node.tag.replace('tag:yaml.org,2002:', '!!')}",
                          location=_loc(file, node.start_mark),
                          hint="remove the tag: source files hold plain text, numbers, lists and mappings")
    return node.value


def _loc(file: Path, mark: Any) -> Location:
    """A yaml Mark (pure-Python or libyaml; 0-based) as a 1-based Location."""
    return Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)


def _location_of(file: Path, marks: dict[Path_, yaml.Mark], loc: Path_) -> Location:
    """The nearest recorded position of a model path (an error's ``loc``)."""
    path = tuple(loc)
    while path:
        if path in marks:
            return _loc(file, marks[path])
        path = path[:-1]
    return _loc(file, marks.get(()))


def _known_fields(model: type[BaseModel], loc: Path_) -> list[str]:
    """Field names valid at ``loc`` in the model (for "did you mean" hints)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            break
        ann = fields[part].annotation
        current = _first_model(ann)
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def _first_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        found = _first_model(arg)
        if found is not None:
            return found
    return None


_EXPECTED: dict[str, str] = {
    "int": "a whole number (such as 318)",
    "decimal": "a number (such as 0.36)",
    "float": "a number (such as 0.36)",
    "bool": "true or false",
    "string": "text",
    "list": "a list ([a, b] or lines starting with '- ')",
    "tuple": "a list ([a, b] or lines starting with '- ')",
    "dict": "a mapping (indented 'key: value' lines)",
    "model": "a mapping (indented 'key: value' lines)",
}
"""Pydantic type-error kinds (the part before ``_type`` / ``_parsing``) in plain words."""

_RANGE_WORDS = {"greater_than_equal": ("ge", "at least"), "greater_than": ("gt", "greater than"),
                "less_than_equal": ("le", "at most"), "less_than": ("lt", "less than")}

_FIELD_HINTS: dict[str, str] = {
    "p_value": "a p-value is a probability between 0 and 1 (write P = 0.03 as 0.03)",
    "p_range": "write a p-value range such as P = 0.01-0.03 as [0.01, 0.03]",
    "level": "a confidence level is a fraction: 0.95 for a 95% confidence interval",
    "amount": "a dose amount is a positive number; its unit goes in 'unit'",
    "year": "a publication year such as 2004",
}

_UNION_TAG_RE = re.compile(r"[\[\-]|^(str|int|bool|none|decimal|float|list|dict|tuple)$")


def _describe(value: Any) -> str:
    """A value as the curator wrote it, in words (for "got ..." in messages)."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, int | Decimal):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value[:60]!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _expected_kind(err_type: str) -> str | None:
    for suffix in ("_type", "_parsing", "_from_float", "_attributes_type"):
        if err_type.endswith(suffix):
            return _EXPECTED.get(err_type.removesuffix(suffix).removesuffix("_attributes"))
    return None


def _pydantic_errors(file: Path, exc: ValidationError, marks: dict[Path_, yaml.Mark]) -> list[SourceError]:
    """Pydantic's errors as SourceErrors in plain words: the key, what was expected, what was found."""
    errors: list[SourceError] = []
    grouped: dict[Path_, list[Any]] = {}
    for err in exc.errors(include_url=False):
        # drop union-branch tags ("constrained-str", "list[...]") from the location
        loc: Path_ = tuple(p for p in err["loc"] if not (isinstance(p, str) and _UNION_TAG_RE.search(p)))
        grouped.setdefault(loc, []).append(err)
    for loc, errs in grouped.items():
        err = errs[0]
        names = [p for p in loc if isinstance(p, str)]
        key = names[-1] if names else "(top level)"
        key = f"item {int(loc[-1]) + 1} of {key!r}" if loc and isinstance(loc[-1], int) else repr(key)
        where = ".".join(str(p) for p in loc) or "(top level)"
        location = _location_of(file, marks, loc)
        hint = _FIELD_HINTS.get(names[-1]) if names else None
        kinds = [k for k in (_expected_kind(e["type"]) for e in errs) if k]
        if err["type"] == "extra_forbidden":
            known = _known_fields(Article, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys here: {', '.join(known)}"
            if (*loc, "__key__") in marks:
                location = _loc(file, marks[(*loc, "__key__")])
            msg = f"unknown key {str(loc[-1])!r} at {where}"
        elif err["type"] == "missing":
            parent = ".".join(str(p) for p in loc[:-1]) or "(top level)"
            msg = f"missing required field {str(loc[-1])!r} (at {parent})"
            hint = hint or "add it, or run 'ivig-kg schema' to see the fields of this entry"
        elif kinds and len(kinds) == len(errs):
            expected = " or ".join(dict.fromkeys(kinds))
            if err["type"] == "int_from_float":
                expected = "a whole number (no fractional part)"
            msg = f"{key} should be {expected}, got {_describe(err.get('input'))} (at {where})"
        elif err["type"] in _RANGE_WORDS:
            bound_key, words = _RANGE_WORDS[err["type"]]
            msg = f"{key} must be {words} {err['ctx'][bound_key]}, got {err.get('input')} (at {where})"
        elif err["type"] == "literal_error":
            msg = f"{key} must be {err['ctx']['expected']}, got {_describe(err.get('input'))} (at {where})"
        elif err["type"] == "string_too_short":
            msg = (f"{key} must be at least {err['ctx']['min_length']} characters, "
                   f"got {_describe(err.get('input'))} (at {where})")
        elif err["type"] == "string_pattern_mismatch":
            msg = f"{key} has the wrong form: {_describe(err.get('input'))} (at {where})"
            hint = hint or f"it must match the pattern {err['ctx']['pattern']}"
        elif err["type"] in {"too_short", "too_long"}:
            msg = f"{key} has the wrong number of items: {err['msg']} (at {where})"
        else:
            msg = f"{err['msg'].removeprefix('Value error, ')} (at {where})"
        errors.append(SourceError(msg, location=location, hint=hint))
    return errors


def _yaml_hint(raw: str, mark: Any, problem: str) -> str:
    """A concrete fix for the commonest YAML mistakes."""
    if mark is not None:
        line = raw.splitlines()[mark.line] if mark.line < len(raw.splitlines()) else ""
        if "\t" in line[: mark.column + 1] or "\t" in line[: len(line) - len(line.lstrip())]:
            return "indent with spaces: YAML does not allow tab characters for indentation"
    if "single document" in problem:
        return "a source file holds one YAML document: remove the extra '---' line"
    if "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        return "close the [list] or {mapping} opened there, or quote a value that contains ',' or ':'"
    return ("check indentation and quoting on this line and the one before; quote values that contain ': ' "
            "or start with one of [ { * & ! | > ' \" %% @ `").replace("%%", "%")


def parse_yaml(path: Path) -> tuple[Any, dict[Path_, yaml.Mark]]:
    """Safely parse a source file into plain data plus a position for each value."""
    raw = _read_text(path, MAX_SOURCE_BYTES, "source file")
    if not raw.strip():
        raise SourceError("source file is empty", location=Location(path),
                          hint="run 'ivig-kg schema' to see the format")
    try:
        for event in yaml.parse(raw, Loader=_Loader) if "*" in raw else ():  # no '*', no alias
            if isinstance(event, yaml.AliasEvent):
                raise SourceError(
                    f"YAML alias *{event.anchor} is not allowed in source files",
                    location=_loc(path, event.start_mark),
                    hint="write the value out in full (anchors and aliases are refused: "
                         "they are how 'billion laughs' YAML bombs are built)",
                )
        node = yaml.compose(raw, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        if exc.context and exc.problem and exc.context.startswith("while "):
            cm = exc.context_mark
            where = f" that starts at line {cm.line + 1}, column {cm.column + 1}" if cm else ""
            what = re.sub(r"^while (parsing |scanning )?(an? )?", "", exc.context)
            problem += f" (in the {what}{where})"
        elif exc.context and exc.problem:
            problem = f"{exc.context}, {exc.problem}"
        raise SourceError(f"malformed YAML: {problem}", location=_loc(path, mark),
                          hint=_yaml_hint(raw, mark, problem)) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"malformed YAML: {exc}", location=Location(path)) from None
    if node is None:
        raise SourceError("source file has no YAML content (only comments or blank lines)",
                          location=Location(path), hint="run 'ivig-kg schema' to see the format")
    marks: dict[Path_, yaml.Mark] = {}
    data = _plain(node, (), marks, set(), path)
    if not isinstance(data, dict):
        raise SourceError("a source file is a YAML mapping (key: value lines) at the top level",
                          location=Location(path, 1, 1), hint="run 'ivig-kg schema' to see the format")
    return data, marks


def walk_ids(article: Article) -> Iterator[tuple[str, str, Path_]]:
    """Every declared id with its kind and model path."""
    yield article.commentary.id, "commentary", ("commentary",)
    for i, p in enumerate(article.people):
        yield p.id, "person", ("people", i)
    for i, pub in enumerate(article.publications):
        yield pub.id, "publication", ("publications", i)
    for i, c in enumerate(article.concepts):
        yield c.id, "concept:" + c.kind, ("concepts", i)
    for i, cl in enumerate(article.claims):
        yield cl.id, "claim", ("claims", i)
    for si, s in enumerate(article.studies):
        sp: Path_ = ("studies", si)
        yield s.id, "study", sp
        if s.population:
            yield s.population.id, "population", (*sp, "population")
            for ci, ch in enumerate(s.population.characteristics):
                yield ch.id, "characteristic", (*sp, "population", "characteristics", ci)
        for ai, arm in enumerate(s.arms):
            yield arm.id, "arm", (*sp, "arms", ai)
            for di, dose in enumerate(arm.doses):
                yield dose.id, "dose", (*sp, "arms", ai, "doses", di)
                if dose.schedule:
                    yield dose.schedule.id, "schedule", (*sp, "arms", ai, "doses", di, "schedule")
        for kind, items in (("outcome", s.outcomes), ("estimate", s.estimates),
                            ("finding", s.findings), ("claim", s.claims)):
            for i, item in enumerate(items):
                yield item.id, kind, (*sp, kind + "s", i)


def _references(article: Article) -> Iterator[tuple[str, set[str], Path_]]:
    """Every id reference with the kinds it may point to and its model path."""
    c = article.commentary
    if c.author:
        yield c.author, {"person"}, ("commentary", "author")
    for i, ref in enumerate(c.cites):
        yield ref, {"publication"}, ("commentary", "cites", i)

    def claim_refs(claim: Any, path: Path_) -> Iterator[tuple[str, set[str], Path_]]:
        for i, ref in enumerate(claim.rests_on):
            yield ref, {"study", "estimate", "finding", "claim", "outcome"}, (*path, "rests_on", i)
        if claim.about:
            yield claim.about, {"concept:intervention"}, (*path, "about")
        for i, ref in enumerate(claim.alternatives):
            yield ref, {"concept:intervention"}, (*path, "alternatives", i)
        if claim.identifies:
            yield claim.identifies, {"study"}, (*path, "identifies")

    for i, cl in enumerate(article.claims):
        yield from claim_refs(cl, ("claims", i))
    for si, s in enumerate(article.studies):
        sp: Path_ = ("studies", si)
        yield s.publication, {"publication"}, (*sp, "publication")
        if s.condition:
            yield s.condition, {"concept:condition"}, (*sp, "condition")
        if s.intervention:
            yield s.intervention, {"concept:intervention"}, (*sp, "intervention")
        for i, ref in enumerate(s.compared_with):
            yield ref, {"study"}, (*sp, "compared_with", i)
        if s.population and s.population.condition:
            yield s.population.condition, {"concept:condition"}, (*sp, "population", "condition")
        for ai, arm in enumerate(s.arms):
            ap: Path_ = (*sp, "arms", ai)
            yield arm.intervention, {"concept:intervention"}, (*ap, "intervention")
            if arm.follows_schedule:
                yield arm.follows_schedule, {"schedule"}, (*ap, "follows_schedule")
            for di, dose in enumerate(arm.doses):
                dp: Path_ = (*ap, "doses", di)
                yield dose.intervention, {"concept:intervention"}, (*dp, "intervention")
                if dose.timing:
                    anchor = dose.timing.before or dose.timing.after
                    assert anchor is not None
                    key = "before" if dose.timing.before else "after"
                    yield anchor, {"dose"}, (*dp, "timing", key)
        for oi, out in enumerate(s.outcomes):
            if out.measure:
                yield out.measure, {"concept:measure"}, (*sp, "outcomes", oi, "measure")
        for ei, est in enumerate(s.estimates):
            ep: Path_ = (*sp, "estimates", ei)
            yield est.outcome, {"outcome"}, (*ep, "outcome")
            for i, ref in enumerate(est.arms or ()):
                yield ref, {"arm"}, (*ep, "arms", i)
            if est.arm:
                yield est.arm, {"arm"}, (*ep, "arm")
        for fi, f in enumerate(s.findings):
            if f.outcome:
                yield f.outcome, {"outcome"}, (*sp, "findings", fi, "outcome")
        for ci, cl in enumerate(s.claims):
            yield from claim_refs(cl, (*sp, "claims", ci))


def _scope_errors(article: Article, file: Path, marks: dict[Path_, yaml.Mark]) -> list[SourceError]:
    """References inside a study must stay inside it (an estimate compares that study's arms)."""
    errors: list[SourceError] = []
    owner: dict[str, str] = {}
    for ident, kind, ipath in walk_ids(article):
        if ipath[0] == "studies" and kind in {"arm", "dose", "schedule", "outcome"}:
            owner[ident] = article.studies[int(ipath[1])].id
    for ref, allowed, rpath in _references(article):
        if rpath[0] != "studies" or not allowed & {"arm", "dose", "schedule", "outcome"} or ref not in owner:
            continue
        study = article.studies[int(rpath[1])].id
        if owner[ref] != study:
            errors.append(SourceError(f"{ref!r} belongs to study {owner[ref]!r}, not to {study!r}",
                                      location=_location_of(file, marks, rpath),
                                      hint="an entry of a study may only refer to that study's own arms, "
                                           "doses, schedules and outcomes"))
    for si, st in enumerate(article.studies):
        for ai, arm in enumerate(st.arms):
            for di, dose in enumerate(arm.doses):
                if dose.timing and dose.id in (dose.timing.before, dose.timing.after):
                    errors.append(SourceError(f"dose {dose.id!r} is timed relative to itself", location=_location_of(
                        file, marks, ("studies", si, "arms", ai, "doses", di, "timing"))))
    return errors


def _quote_paths(article: Article) -> Iterator[tuple[str, Path_]]:
    """Every quote string in the model with its path (for locating errors)."""
    c = article.commentary
    for key in ("title", "section", "synopsis"):
        value = getattr(c, key)
        if value:
            yield value, ("commentary", key)

    def visit(obj: Any, path: Path_) -> Iterator[tuple[str, Path_]]:
        if isinstance(obj, BaseModel):
            for name in type(obj).model_fields:
                value = getattr(obj, name)
                if name == "quote" and value is not None:
                    if isinstance(value, str):
                        yield value, (*path, name)
                    else:
                        for i, q in enumerate(value):
                            yield q, (*path, name, i)
                else:
                    yield from visit(value, (*path, name))
        elif isinstance(obj, list | tuple):
            for i, item in enumerate(obj):
                yield from visit(item, (*path, i))

    for name in ("people", "publications", "concepts", "studies", "claims", "not_modeled"):
        yield from visit(getattr(article, name), (name,))


def locate_quote(text: str, quote: str) -> tuple[int, int] | str:
    """The unique (start, end) of ``quote`` in ``text``, or why it has none."""
    start = text.find(quote)
    if start < 0:
        close = _closest(text, quote)
        return "quote not found in the article text" + (f"; closest text: {close!r}" if close else "")
    again = text.find(quote, start + 1)
    if again >= 0:
        return (f"quote is ambiguous: it occurs {text.count(quote)} times in the text "
                f"(on text lines {text.count(chr(10), 0, start) + 1} and {text.count(chr(10), 0, again) + 1}"
                f", offsets {start} and {again})")
    return start, start + len(quote)


def _closest(text: str, quote: str) -> str | None:
    words = quote.split()
    if not words:
        return None
    anchor = max(words, key=len)
    best: tuple[float, str] | None = None
    pos = text.find(anchor)
    while pos >= 0:
        window = text[max(0, pos - len(quote)): pos + len(quote)]
        m = difflib.SequenceMatcher(None, window, quote).find_longest_match(0, len(window), 0, len(quote))
        cand_start = max(0, pos - len(quote) + m.a - m.b)
        candidate = text[cand_start: cand_start + len(quote)]
        ratio = difflib.SequenceMatcher(None, candidate, quote).ratio()
        if best is None or ratio > best[0]:
            best = (ratio, candidate)
        pos = text.find(anchor, pos + 1)
    return best[1] if best and best[0] > 0.6 else None


def load_source(path: Path) -> SourceArticle:
    """Load and fully check one source file; raise :class:`SourceErrors` listing every problem."""
    path = Path(path)
    data, marks = parse_yaml(path)
    try:
        article = Article.model_validate(data)
    except ValidationError as exc:
        errs = _pydantic_errors(path, exc, marks)
        raise SourceErrors(errs) if len(errs) > 1 else errs[0] from None

    errors: list[SourceError] = []
    kinds: dict[str, tuple[str, Path_]] = {}
    concept_labels: dict[str, str] = {}
    for ident, kind, ipath in walk_ids(article):
        if kind.startswith("concept:"):
            label = article.concepts[int(ipath[1])].label
            if ident in concept_labels and concept_labels[ident] == label and kinds[ident][0] == kind:
                continue
            concept_labels.setdefault(ident, label)
        if ident in kinds:
            first = _location_of(path, marks, kinds[ident][1])
            errors.append(SourceError(
                f"duplicate id {ident!r} (first declared at line {first.line})",
                location=_location_of(path, marks, (*ipath, "id")),
                hint="ids must be unique within a source file",
            ))
        else:
            kinds[ident] = (kind, ipath)
    for ref, allowed, rpath in _references(article):
        if ref not in kinds:
            same_kind = [i for i, (k, _) in kinds.items() if k in allowed]
            close = difflib.get_close_matches(ref, same_kind, n=1)
            errors.append(SourceError(
                f"reference to unknown id {ref!r}",
                location=_location_of(path, marks, rpath),
                hint=f"did you mean {close[0]!r}?" if close else
                f"expected the id of a {' or '.join(sorted(allowed))}",
            ))
        elif kinds[ref][0] not in allowed:
            same_kind = [i for i, (k, _) in kinds.items() if k in allowed]
            close = difflib.get_close_matches(ref, same_kind, n=1, cutoff=0.3)
            errors.append(SourceError(
                f"{ref!r} is a {kinds[ref][0]}, but a {' or '.join(sorted(allowed))} is expected here",
                location=_location_of(path, marks, rpath),
                hint=f"did you mean {close[0]!r}?" if close else None,
            ))

    errors.extend(_scope_errors(article, path, marks))

    text_name = article.commentary.text or path.with_suffix(".txt").name
    text_path = path.parent / text_name
    if not text_path.exists():
        errors.append(SourceError(
            f"article text {text_name!r} not found beside the source file",
            location=_location_of(path, marks, ("commentary", "text")) if article.commentary.text
            else Location(path),
            hint=f"put the article's plain text at {text_path}",
        ))
        raise SourceErrors(errors) if len(errors) > 1 else errors[0]
    text = _read_text(text_path, MAX_TEXT_BYTES, "article text")

    spans: dict[str, Span] = {}
    for quote, qpath in _quote_paths(article):
        if quote in spans:
            continue
        found = locate_quote(text, quote)
        if isinstance(found, str):
            hint = ("quote a longer passage, so that it occurs only once in the text" if "ambiguous" in found else
                    f"copy the passage from {text_path.name} character for character "
                    "(a quote may not span text that differs, e.g. another article's wording)")
            errors.append(SourceError(found, location=_location_of(path, marks, qpath), hint=hint))
        else:
            spans[quote] = Span(found[0], found[1], quote)

    for i, nm in enumerate(article.not_modeled):
        where = nm.quote if nm.quote is not None else text
        if nm.text not in where:
            errors.append(SourceError(
                f"not_modeled text {nm.text!r} does not occur in " + ("its quote" if nm.quote else "the article"),
                location=_location_of(path, marks, ("not_modeled", i, "text")),
                hint="'text' is the number exactly as written inside 'quote'" if nm.quote else
                "'text' is the number exactly as written in the article"))

    if errors:
        raise SourceErrors(errors) if len(errors) > 1 else errors[0]
    return SourceArticle(path=path, text_path=text_path, text=text, article=article, spans=spans)
