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
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SourceError(f"{what} not found", location=Location(path)) from None
    except OSError as exc:
        raise SourceError(f"cannot read {what}: {exc.strerror}", location=Location(path)) from None
    if size > limit:
        raise SourceError(
            f"{what} is {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit",
            location=Location(path),
            hint="a source file describes one article; split the data or check you named the right file",
        )
    data = path.read_bytes()
    if b"\x00" in data:
        raise SourceError(f"{what} is binary (it contains NUL bytes), not text", location=Location(path))
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
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise SourceError("mapping keys must be plain words", location=_loc(file, key_node.start_mark))
            key = key_node.value
            if key in out:
                raise SourceError(f"duplicate key {key!r}", location=_loc(file, key_node.start_mark))
            marks[(*path, key, "__key__")] = key_node.start_mark
            out[key] = _plain(value_node, (*path, key), marks, seen, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v, (*path, i), marks, seen, file) for i, v in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    if node.tag == "tag:yaml.org,2002:float":
        try:
            return Decimal(node.value.replace("_", ""))
        except ArithmeticError:
            return node.value
    if node.tag == "tag:yaml.org,2002:int" and re.match(r"^[-+]?0[0-9_]", node.value):
        raise SourceError(f"number {node.value!r} has a leading zero (YAML would read it as octal)",
                          location=_loc(file, node.start_mark), hint="write it without the leading zero")
    if node.tag in {"tag:yaml.org,2002:int", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"}:
        return yaml.constructor.SafeConstructor().construct_object(node)
    if node.tag in {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"}:
        return node.value  # keep as text; the model says what type it wants
    if node.tag != "tag:yaml.org,2002:str":
        raise SourceError(f"unsupported YAML tag {node.tag}", location=_loc(file, node.start_mark))
    return node.value


def _loc(file: Path, mark: yaml.Mark | None) -> Location:
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


def _pydantic_errors(file: Path, exc: ValidationError, marks: dict[Path_, yaml.Mark]) -> list[SourceError]:
    errors: list[SourceError] = []
    for err in exc.errors(include_url=False):
        loc: Path_ = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        where = ".".join(str(p) for p in loc) or "(top level)"
        hint = None
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            known = _known_fields(Article, loc[:-1])
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys here: {', '.join(known)}"
            location = _loc(file, marks.get((*loc, "__key__"))) if (*loc, "__key__") in marks \
                else _location_of(file, marks, loc)
            errors.append(SourceError(f"unknown key {key!r} at {where}", location=location, hint=hint))
            continue
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = f"missing required field {str(loc[-1])!r}"
            where = ".".join(str(p) for p in loc[:-1]) or "(top level)"
        errors.append(SourceError(f"{msg} (at {where})", location=_location_of(file, marks, loc), hint=hint))
    return errors


def parse_yaml(path: Path) -> tuple[Any, dict[Path_, yaml.Mark]]:
    """Safely parse a source file into plain data plus a position for each value."""
    raw = _read_text(path, MAX_SOURCE_BYTES, "source file")
    if not raw.strip():
        raise SourceError("source file is empty", location=Location(path),
                          hint="run 'ivig-kg schema' to see the format")
    try:
        node = yaml.compose(raw, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        raise SourceError(f"malformed YAML: {problem}", location=_loc(path, mark)) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"malformed YAML: {exc}", location=Location(path)) from None
    marks: dict[Path_, yaml.Mark] = {}
    data = _plain(node, (), marks, set(), path) if node is not None else None
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
                                      location=_location_of(file, marks, rpath)))
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
                f"(at offsets {start} and {again}); quote a longer passage")
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
            errors.append(SourceError(
                f"{ref!r} is a {kinds[ref][0]}, but a {' or '.join(sorted(allowed))} is expected here",
                location=_location_of(path, marks, rpath),
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
            errors.append(SourceError(found, location=_location_of(path, marks, qpath)))
        else:
            spans[quote] = Span(found[0], found[1], quote)

    for i, nm in enumerate(article.not_modeled):
        where = nm.quote if nm.quote is not None else text
        if nm.text not in where:
            errors.append(SourceError(
                f"not_modeled text {nm.text!r} does not occur in " + ("its quote" if nm.quote else "the article"),
                location=_location_of(path, marks, ("not_modeled", i, "text"))))

    if errors:
        raise SourceErrors(errors) if len(errors) > 1 else errors[0]
    return SourceArticle(path=path, text_path=text_path, text=text, article=article, spans=spans)
