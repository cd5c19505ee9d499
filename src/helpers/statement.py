"""The statement under test: who said what about a takedown, and its claims, read from a TOML file.

A statement names its claims; each claim names a measure of the results
contract (``helpers.results``) and one comparison: ``above``/``below`` a line,
``equals`` a published figure (within ``tolerance``), ``reference`` (below or
above the reference set's quantile) or ``baseline`` (below or above baseline
accounts of the same follower count). ``[topics.NAME]`` keyword lists give the
``topic_NAME_share_tweets`` measures. The schema is in docs/claims.md; every
mistake in a file is a ``TractionError`` naming the file, the claim and the
field, raised before anything runs. Statements shipped with the package lie in
``helpers/data/statements/``: one per campaign, and ``generic.toml``.
"""

import datetime
import difflib
import hashlib
import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from helpers import results
from helpers.errors import TractionError

SHIPPED = Path(__file__).parent / "data" / "statements"
GENERIC = "generic"
SIMULATED_PREFIX = "simulated_"  # the simulator names a stand-in for campaign X "simulated_X"
ABOVE, BELOW, EQUALS, REFERENCE, BASELINE = "above", "below", "equals", "reference", "baseline"
COMPARISONS = (ABOVE, BELOW, EQUALS, REFERENCE, BASELINE)
STATEMENT_KEYS = {"by", "date", "url", "quote", "campaign", "title", "paraphrase", "note"}
CLAIM_KEYS = {"id", "text", "source", "question", "measure", "tolerance", "quantile", "caveat", "evidence", "note",
              *COMPARISONS}
REQUIRED_CLAIM_KEYS = ("id", "text", "source", "question", "measure")
NAME = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class Comparison:
    """How a claim's measure becomes a verdict: ``kind`` is one of COMPARISONS; ``side`` is "above" or "below"
    (the claim's side; empty for ``equals``); ``value`` is the line, the published figure or, for the reference
    set, the quantile (None: the run's ``reference_quantile``); ``tolerance`` is for ``equals``."""

    kind: str
    side: str = ""
    value: float | None = None
    tolerance: float | None = None


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    source: str
    question: str
    measure: str
    comparison: Comparison
    caveat: str = ""
    evidence: tuple = ()  # further measure ids shown beside the verdict
    note: str = ""


@dataclass(frozen=True)
class Statement:
    by: str
    claims: tuple
    date: str = ""
    url: str = ""
    quote: str = ""
    campaign: str = ""
    title: str = ""
    paraphrase: bool = False  # the quote is a paraphrase, not the speaker's words
    note: str = ""
    topics: dict = field(default_factory=dict)  # name -> tuple of keywords
    source: str = ""  # the file it was read from (a shipped statement by its name)
    sha256: str = ""  # of the file's bytes

    @property
    def generic(self) -> bool:
        return self.source == _shipped_name(GENERIC)

    def measure_ids(self) -> list[str]:
        """Every measure the claims name, their evidence included, in order and once."""
        ids = [test_id for claim in self.claims for test_id in (claim.measure, *claim.evidence)]
        return list(dict.fromkeys(ids))

    def named(self, form: str) -> list[dict]:
        """The parts of every parameterised measure of one family form the claims name."""
        return [parts for found, parts in map(results.family_parts, self.measure_ids()) if found == form]

    def follower_lines(self) -> tuple:
        return tuple(sorted({int(parts["n"]) for parts in self.named("followers_share_under_{N}")}))

    def languages(self) -> tuple:
        return tuple(sorted({parts["code"] for parts in self.named("language_{CODE}_share_tweets")}))

    def topic_differences(self) -> tuple:
        return tuple(dict.fromkeys((p["a"], p["b"]) for p in self.named("topic_{A}_minus_{B}_share_tweets")))

    def creation_months(self) -> tuple:
        return tuple(sorted({f"{p['year']}-{p['month']}" for p in self.named("accounts_created_share_{YYYY}_{MM}")}))

    def tweet_days(self) -> tuple:
        return tuple(sorted({f"{p['year']}-{p['month']}-{p['day']}"
                             for p in self.named("tweets_share_from_{YYYY}_{MM}_{DD}")}))


def _shipped_name(name: str) -> str:
    return f"shipped:{name}"


def shipped() -> dict:
    """Campaign (or "generic") -> path of each statement shipped with the package."""
    return {path.stem: path for path in sorted(SHIPPED.glob("*.toml"))}


def choose(claims_file="", campaign="", simulated=False) -> Statement:
    """The statement to test: ``claims_file`` when given; else the shipped one of ``campaign`` (a simulated
    stand-in ``simulated_X`` takes X's); else the generic statement."""
    if claims_file:
        return read(claims_file)
    available = shipped()
    name = str(campaign or "")
    if simulated and name.startswith(SIMULATED_PREFIX):
        name = name.removeprefix(SIMULATED_PREFIX)
    for candidate in (name, GENERIC):
        if candidate in available:
            return read(available[candidate], label=_shipped_name(candidate))
    raise TractionError(f"no shipped statement in {SHIPPED} (the package is incomplete: reinstall it)")


def read(path, *, label="") -> Statement:
    """Read and check a statement file; any mistake stops here, naming the file, the claim and the field."""
    path = Path(path)
    where = label or str(path)
    if not path.is_file():
        raise TractionError(f"statement file {path}: no such file (write one as docs/claims.md shows)")
    raw = path.read_bytes()
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise TractionError(f"statement file {where}: not UTF-8 text ({error.reason} at byte {error.start})") \
            from None
    except tomllib.TOMLDecodeError as error:
        raise TractionError(f"statement file {where}: invalid TOML: {error} (fix the file at that line)") from None
    return replace(parse(document, where), sha256=hashlib.sha256(raw).hexdigest())


def provenance(tested: Statement) -> dict:
    """What results.json records of the statement a run computed for (location-free: a file by its name)."""
    name = tested.source.removeprefix("shipped:") if tested.source.startswith("shipped:") else Path(tested.source).name
    return {"name": name, "shipped": tested.source.startswith("shipped:"), "by": tested.by, "sha256": tested.sha256,
            "claims": [claim.id for claim in tested.claims]}


def parse(document: dict, where: str = "statement") -> Statement:
    """A statement from a parsed TOML document (``where`` names it in errors)."""
    unknown = set(document) - {"statement", "topics", "claims"}
    if unknown:
        raise TractionError(f"{where}: unknown table(s) {sorted(unknown)}; a statement file has [statement], "
                            "[topics.NAME] and [[claims]]")
    head = document.get("statement")
    if not isinstance(head, dict):
        raise TractionError(f"{where}: no [statement] table (who made the statement, when, and its words)")
    _no_unknown_keys(head, STATEMENT_KEYS, f"{where}: [statement]")
    texts = {key: _text(head, key, f"{where}: [statement]", required=key == "by")
             for key in ("by", "url", "quote", "campaign", "title", "note")}
    date = head.get("date", "")
    if not isinstance(date, (str, datetime.date)):
        raise TractionError(f"{where}: [statement] field 'date': expected a date like 2020-06-12, got "
                            f"{type(date).__name__} {date!r}")
    paraphrase = head.get("paraphrase", False)
    if not isinstance(paraphrase, bool):
        raise TractionError(f"{where}: [statement] field 'paraphrase': expected true or false, got {paraphrase!r}")
    topics = _topics(document.get("topics", {}), where)
    claims = document.get("claims")
    if not isinstance(claims, list) or not claims or not all(isinstance(c, dict) for c in claims):
        raise TractionError(f"{where}: no [[claims]]: a statement needs at least one claim")
    parsed, seen = [], set()
    for number, raw in enumerate(claims, 1):
        claim = _claim(raw, number, where, topics)
        if claim.id in seen:
            raise TractionError(f"{where}: claim {claim.id!r} (claim {number}): field 'id': duplicate claim id; "
                                "give each claim its own id")
        seen.add(claim.id)
        parsed.append(claim)
    return Statement(claims=tuple(parsed), date=str(date), paraphrase=paraphrase, topics=topics, source=where,
                     **texts)


def _no_unknown_keys(table: dict, allowed: set, where: str):
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise TractionError(f"{where}: unknown field(s) {unknown}; valid fields: {', '.join(sorted(allowed))}")


def _text(table: dict, key: str, where: str, required=False) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise TractionError(f"{where} field {key!r}: expected text, got {type(value).__name__} {value!r}")
    if required and not value.strip():
        raise TractionError(f"{where} field {key!r}: missing or empty")
    return value.strip()


def _number(value, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TractionError(f"{where} field {key!r}: expected a number, got {type(value).__name__} {value!r}")
    return value


def _topics(table, where: str) -> dict:
    if not isinstance(table, dict):
        raise TractionError(f"{where}: [topics] must hold tables [topics.NAME] with keywords = [...]")
    topics = {}
    for name, spec in table.items():
        here = f"{where}: [topics.{name}]"
        if not NAME.fullmatch(name) or "_minus_" in f"_{name}_":
            raise TractionError(f"{here}: a topic name uses a-z, 0-9 and _ only, and not the word 'minus'")
        keywords = spec.get("keywords") if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or keywords is None:
            raise TractionError(f"{here} field 'keywords': missing; give a list like keywords = [\"hong kong\"]")
        _no_unknown_keys(spec, {"keywords", "note"}, here)
        if not isinstance(keywords, list) or not keywords or \
                not all(isinstance(k, str) and k.strip() and k.isprintable() for k in keywords):
            raise TractionError(f"{here} field 'keywords': expected a non-empty list of non-empty texts on one "
                                f"line each, got {keywords!r}")
        topics[name] = tuple(dict.fromkeys(k.strip().lower() for k in keywords))
    return topics


def _claim(raw: dict, number: int, where: str, topics: dict) -> Claim:
    claim_id = raw.get("id")
    here = f"{where}: claim {claim_id!r}" if isinstance(claim_id, str) else f"{where}: claim {number}"
    _no_unknown_keys(raw, CLAIM_KEYS, here)
    texts = {key: _text(raw, key, here, required=key in REQUIRED_CLAIM_KEYS)
             for key in ("id", "text", "source", "question", "measure", "caveat", "note")}
    if not NAME.fullmatch(texts["id"]):
        raise TractionError(f"{here} field 'id': use a-z, 0-9 and _ only (like low_followers)")
    _known_measure(texts["measure"], here, "measure", topics)
    evidence = raw.get("evidence", [])
    if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
        raise TractionError(f"{here} field 'evidence': expected a list of measure ids, got {evidence!r}")
    for test_id in evidence:
        _known_measure(test_id, here, "evidence", topics)
    comparison = _comparison(raw, here, texts["measure"])
    return Claim(comparison=comparison, evidence=tuple(evidence), **texts)


def _known_measure(test_id: str, here: str, key: str, topics: dict):
    try:
        results.measure(test_id)
    except TractionError:
        ids = [*results.MEASURES, *(f"topic_{name}_share_tweets" for name in topics)]
        nearest = difflib.get_close_matches(test_id, ids, n=3, cutoff=0.5)
        hint = f"nearest: {', '.join(nearest)}; " if nearest else ""
        forms = ", ".join(family.form for family in results.FAMILIES)
        raise TractionError(f"{here} field {key!r}: unknown measure {test_id!r} ({hint}or a form: {forms}; "
                            "`traction measures` lists every id)") from None
    form, parts = results.family_parts(test_id)
    missing = [parts[k] for k in ("name", "a", "b") if k in parts and parts[k] not in topics]
    if form.startswith("topic_") and missing:
        declared = ", ".join(sorted(topics)) or "none"
        raise TractionError(f"{here} field {key!r}: measure {test_id!r} names the topic {missing[0]!r}, which the "
                            f"file does not declare; add [topics.{missing[0]}] with keywords (declared: {declared})")


def _comparison(raw: dict, here: str, measure_id: str) -> Comparison:
    given = [key for key in COMPARISONS if key in raw]
    if len(given) != 1:
        found = f"{len(given)} ({', '.join(given)})" if given else "none"
        raise TractionError(f"{here}: needs exactly one comparison of above = X, below = X, equals = X, "
                            f"reference = \"below\"|\"above\" or baseline = \"below\"|\"above\"; found {found}")
    kind = given[0]
    for key, allowed_with in (("tolerance", EQUALS), ("quantile", REFERENCE)):
        if key in raw and kind != allowed_with:
            raise TractionError(f"{here} field {key!r}: only with {allowed_with} = ..., not with {kind} = ...")
    measure = results.measure(measure_id)
    if kind in (ABOVE, BELOW):
        return Comparison(kind, kind, _number(raw[kind], here, kind))
    if kind == EQUALS:
        value = _number(raw[kind], here, kind)
        tolerance = _number(raw["tolerance"], here, "tolerance") if "tolerance" in raw else rounding(value)
        if tolerance < 0:
            raise TractionError(f"{here} field 'tolerance': must be 0 or more, got {tolerance!r}")
        return Comparison(kind, value=value, tolerance=tolerance)
    side = raw[kind]
    if side not in (ABOVE, BELOW):
        raise TractionError(f"{here} field {kind!r}: expected \"below\" or \"above\", got {side!r}")
    if kind == REFERENCE:
        if not measure.reference:
            paired = ", ".join(m.id for m in results.MEASURES.values() if m.reference)
            raise TractionError(f"{here} field 'reference': measure {measure_id!r} has no reference pairing; "
                                f"measures that do: {paired}")
        quantile = raw.get("quantile")
        if quantile is not None and not 0 < _number(quantile, here, "quantile") < 1:
            raise TractionError(f"{here} field 'quantile': must lie between 0 and 1, got {quantile!r}")
        return Comparison(kind, side, quantile)
    if not measure.baseline:
        paired = ", ".join(m.id for m in results.MEASURES.values() if m.baseline)
        raise TractionError(f"{here} field 'baseline': measure {measure_id!r} has no baseline pairing; measures "
                            f"that do: {paired}")
    return Comparison(kind, side, 1.0)


def rounding(value) -> float:
    """A published figure's default tolerance: half a unit of its last written digit (0.26 -> 0.005); a
    whole number (a count) must match exactly."""
    if isinstance(value, int):
        return 0.0
    decimals = len(np.format_float_positional(float(value)).partition(".")[2].rstrip("0"))
    return 0.5 * 10.0 ** -decimals
