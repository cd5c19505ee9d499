"""The verdicts: each claim of the statement under test, judged against the results, with the numbers behind it.

One evaluator (``evaluate``) reads a statement (``helpers.statement``) and a
results document through the results registry (``helpers.results``): each
claim names a measure and one comparison, and gets one verdict by one rule.
Against a line, the reference set or baseline accounts (``_side``):
*supported* when the whole 95% interval lies on the claim's side of the line,
*contradicted* when it lies entirely on the other side, *inconclusive* when it
straddles the line, *not testable* when the released data cannot speak to it
(or a model failed). Against a published figure: *reproduced* when our
estimate lies within the tolerance of it, else *not reproduced*. A census
count (no sampling error) is compared as it is. Every number in the prose is
formatted here from the results, never typed; labels and pairings come from
the registry.
"""

from dataclasses import asdict, dataclass, field
from html import escape

import pandas as pd

from helpers import results, statement
from helpers.results import fragile

SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE = "supported", "contradicted", "inconclusive", "not testable"
REPRODUCED, NOT_REPRODUCED = "reproduced", "not reproduced"
VERDICTS = {
    SUPPORTED: "the whole 95% interval lies on the claim's side of the line",
    CONTRADICTED: "the whole 95% interval lies on the other side of the line: the data say the opposite",
    INCONCLUSIVE: "the 95% interval straddles the line: the data cannot decide either way",
    NOT_TESTABLE: "the released data cannot answer the question, or the model that would did not converge",
    REPRODUCED: "a published figure: our estimate lies within its tolerance (its rounding, unless stated)",
    NOT_REPRODUCED: "a published figure: our estimate lies outside its tolerance",
}
AGAINST = {statement.ABOVE: "line", statement.BELOW: "line", statement.EQUALS: "published figure",
           statement.REFERENCE: "reference set", statement.BASELINE: "baseline accounts"}
CAVEAT_FOLLOWERS = "Follower counts were measured when the accounts were suspended, not when they tweeted."
CAVEAT_ENGAGEMENT = ("Engagement counts exclude likes and retweets by accounts Twitter had suspended or deleted "
                     "by the release, so the amplifiers' engagement is probably missing: the counts are lower bounds.")
CAVEAT_HASHING = "Accounts under 5,000 followers have hashed ids, so they cannot be looked up or linked to other data."
# Relative slack of a float comparison with a published figure (|0.265 - 0.26| is 0.005000000000000004).
FLOAT_SLACK = 1e-9


@dataclass(frozen=True)
class Settings:
    """The run's settings for verdicts that the statement leaves open; stated in the report."""

    reference_quantile: float = 0.5  # the reference set's dividing line, for claims that give no quantile
    published_tolerance: float = 0.05  # our totals agree with the reference set's published ones within this


@dataclass
class Verdict:
    """One claim's verdict, with the evidence read from the results."""

    id: str
    claim: str
    source: str
    question: str
    measure: str
    against: str  # AGAINST's values
    rule: str  # the comparison in words
    verdict: str
    evidence: str
    caveat: str = ""
    note: str = ""
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    line: float | None = None
    test_ids: list = field(default_factory=list)


def pct(value):
    return "n/a" if value is None else f"{100 * value:.1f}%"


def num(value, digits=2):
    """Whole numbers as such; others with two decimals, or three significant digits when smaller."""
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) < 0.1:
        return f"{value:.3g}"
    return f"{value:.{digits}f}"


def precise(value, share=False):
    """A number to four significant digits (a published figure's comparison needs more than the prose's)."""
    if value is None:
        return "n/a"
    if share:
        return f"{100 * value:.4g}%"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.4g}"


def fmt(test_id):
    """How a measure prints: a percentage for shares, else a number (from the registry's unit)."""
    return pct if results.measure(test_id).is_share else num


def interval(entry, form=pct):
    return f"{form(entry['estimate'])} (95% CI {form(entry['ci_low'])} to {form(entry['ci_high'])})"


def shown(entry):
    """An entry's value as prose: with its interval when it has one."""
    form = fmt(entry["id"])
    return interval(entry, form) if entry.get("ci_low") is not None else form(entry["estimate"])


def usable(entry):
    return entry is not None and bool(entry.get("converged")) and entry.get("estimate") is not None


def _side(entry, line, above):
    """Verdict from where the interval lies relative to a line (the claim: above it, or below it).

    The claim's inequality is strict, so an interval ending exactly on the line is not on the claim's side.
    An entry without an interval has nothing to judge (``unusable`` says so in the evidence).
    """
    if not usable(entry) or entry.get("ci_low") is None or entry.get("ci_high") is None:
        return NOT_TESTABLE
    low, high = entry["ci_low"], entry["ci_high"]
    if (low > line) if above else (high < line):
        return SUPPORTED
    if (high <= line) if above else (low >= line):
        return CONTRADICTED
    return INCONCLUSIVE


def _census(entry, line, above):
    """A census count has no interval: its value is compared as it is."""
    value = entry["estimate"]
    return SUPPORTED if ((value > line) if above else (value < line)) else CONTRADICTED


def unusable(entry, test_id, dataset=None):
    """Why a measure cannot be read: the data's form when it has no tweets, else the entry's own reason."""
    dataset = dataset or {}
    accounts = dataset.get("accounts")
    accounts = f"{accounts:,} accounts" if isinstance(accounts, int) else "accounts"
    skips = [w.removeprefix("skipped: ") for w in (entry or {}).get("warnings", []) if w.startswith("skipped: ")]
    rejected = any(str(w).startswith(results.ALL_TWEETS_REJECTED) for w in dataset.get("frame_warnings", []))
    if rejected and (entry is None or skips):
        return (f"No tweet was loaded: every tweet row read was rejected (their reasons are in rejected.parquet); "
                f"{accounts} were loaded, and `{test_id}` needs tweets.")
    if dataset.get("form") == "users_only" and (entry is None or skips):
        return f"The data is a users file only: {accounts} were loaded, with no tweets, and `{test_id}` needs tweets."
    if dataset.get("form") == "account_table" and skips:
        return (f"The data is an account-level table ({accounts}, totals per account, no tweets): `{test_id}` "
                f"was not computed ({'; '.join(skips)}).")
    if entry is None:
        return (f"The results hold no `{test_id}`: run notebook 02 (02_engagement_vs_followers) with this statement "
                "so that it computes the measures the statement names.")
    return f"`{test_id}` could not be estimated: {'; '.join(entry.get('warnings') or ['no reason recorded'])}."


def _sentence(text):
    return text[:1].upper() + text[1:]


def _listed(tests, ids):
    """Further measures as prose: "label value; ..." for each one computed."""
    parts = [f"{results.measure(test_id).label} {shown(tests[test_id])}"
             f"{' (fragile: carried by a few accounts)' if fragile(tests[test_id]) else ''}"
             for test_id in ids if usable(tests.get(test_id))]
    return f" Also: {'; '.join(parts)}." if parts else ""


def engagement_words(tests):
    """Which engagement counts the data has, e.g. 'likes, retweets, replies and quotes' or 'retweets only'."""
    parts = results.ENGAGEMENT_COMPONENTS
    if not any(test_id in tests for test_id in parts.values()):
        return "likes, retweets, replies and quotes"
    present = [name for name, test_id in parts.items() if usable(tests.get(test_id))]
    if not present:
        return "as the data's engagement total gives them"
    absent = [name for name in parts if name not in present]
    listed = ", ".join(present[:-1]) + " and " + present[-1] if len(present) > 1 else present[0]
    if not absent:
        return listed
    missing = ", ".join(absent[:-1]) + " or " + absent[-1] if len(absent) > 1 else absent[0]
    return f"{listed} only: the data has no {missing} counts"


def _band_means(document):
    """The dose-response by follower band, as prose: the description that assumes no curve."""
    bands = (document.get("descriptives") or {}).get("follower_bands") or []
    return "; ".join(f"{row['band']} followers {num(row.get('engagement_per_tweet'))} "
                     f"({num(row.get('ci_low'))} to {num(row.get('ci_high'))})"
                     for row in bands if row.get("band") != "unknown" and row.get("engagement_per_tweet") is not None)


def _verdict(claim, against, rule, verdict, evidence, *, entry=None, line=None, ids=()):
    entry = entry or {}
    return Verdict(claim.id, claim.text, claim.source, claim.question, claim.measure, against, rule, verdict,
                   evidence.strip(), claim.caveat, claim.note, entry.get("estimate"), entry.get("ci_low"),
                   entry.get("ci_high"), line, list(dict.fromkeys([claim.measure, *ids, *claim.evidence])))


def _rule_words(claim, line):
    measure = results.measure(claim.measure)
    side = "above" if claim.comparison.side == statement.ABOVE else "below"
    if measure.exact:
        return f"supported when the {measure.label} (a count, no sampling error) is {side} {line}"
    words = f"supported when the 95% interval of {measure.label} lies wholly {side} {line}"
    if measure.corroborate_always and claim.comparison.value == 0:
        words += f", and that of the {results.measure(measure.corroboration).label} on the same side of 0"
    return words


def _against_line(claim, tests, document):
    """Above or below a fixed line, with the measure's registry reading (stand-ins, corroboration, check)."""
    measure, comparison = results.measure(claim.measure), claim.comparison
    above, line = comparison.side == statement.ABOVE, comparison.value
    dataset = document.get("dataset", {})
    rule = _rule_words(claim, precise(line, measure.is_share))
    candidates = [claim.measure, *measure.fallbacks]
    chosen = next((test_id for test_id in candidates if usable(tests.get(test_id))), None)
    if chosen is None:
        reasons = " ".join(unusable(tests.get(test_id), test_id, dataset) for test_id in candidates
                           if test_id == claim.measure or test_id in tests)
        return _verdict(claim, AGAINST[comparison.kind], rule, NOT_TESTABLE, reasons, line=line, ids=candidates)
    entry = tests[chosen]
    label = results.measure(chosen).label
    if measure.exact:
        return _verdict(claim, AGAINST[comparison.kind], rule, _census(entry, line, above),
                        f"{_sentence(label)}: {num(entry['estimate'])} (a count of the release, no sampling error).",
                        entry=entry, line=line)
    stand_in = "" if chosen == claim.measure else \
        f" This stands in for the {measure.label}, which could not be estimated."
    counted = f" ({engagement_words(tests)})" if measure.unit == "engagements" else ""
    evidence = f"{_sentence(label)}{counted}: {shown(entry)}.{stand_in}"
    check, corroboration = tests.get(measure.check), tests.get(measure.corroboration)
    apart = usable(check) and check.get("ci_low") is not None and (check["ci_low"] > 0 or check["ci_high"] < 0)
    shape = results.misspecified(entry).removeprefix(results.MISSPECIFIED).split(";")[0].strip()
    misspecified = apart or bool(shape)
    if measure.unit == "elasticity" and not misspecified:
        evidence += (f" A 10% larger audience goes with about {pct(1.1 ** entry['estimate'] - 1)} more engagement "
                     "per tweet.")
    if entry.get("p_holm") is not None:
        evidence += f" p = {entry['p_holm']:.2g}, Holm-adjusted over the primary tests."
    fired, reported = results.clustered(entry)
    if reported:
        evidence += (f" The accounts appear to {results.CLUSTERED_BY[fired]}, so the interval is the one clustered by "
                     f"{reported}, not one that treats accounts as independent.")
    elif fired:
        evidence += (f" The accounts appear to {results.CLUSTERED_BY[fired]}; the interval that treats accounts as "
                     "independent is kept, as no clustered one is wider.")
    verdict = _side(entry, line, above)
    # The corroboration (a rank correlation) speaks only to the sign, and only vetoes: when the measure is in
    # doubt (its model does not fit, or a few accounts carry it) a confident verdict on a claim whose line is 0
    # needs the two to agree; a claim about the measure's size cannot be decided then.
    sign_only = line == 0 and usable(corroboration)
    if misspecified:
        bands = _band_means(document)
        lead = f"Engagement per original tweet by follower band (95% CI): {bands}. " if bands else ""
        why = (f"the {results.measure(check['id']).label} is {interval(check, num)}, and it would be near 0 if it "
               "did" if apart else shape)
        needs = (f"the verdict needs the {results.measure(corroboration['id']).label} (judged against 0) to agree "
                 "with it" if sign_only else "no verdict on its size can rest on it")
        evidence = (f"{lead}The model behind this measure does not fit these data: {why}, so the band means are the "
                    f"description to read, and {needs}. {evidence}")
    elif fragile(entry) and measure.corroboration:
        evidence += (" The interval is fragile (a few high-leverage accounts carry it), so the verdict also needs "
                     f"the {results.measure(measure.corroboration).label} to agree." if line == 0 else
                     " The interval is fragile (a few high-leverage accounts carry it), so no verdict on the "
                     "measure's size rests on it.")
    in_doubt = misspecified or (fragile(entry) and measure.corroboration)
    if measure.corroborate_always and line == 0 and not in_doubt and verdict in (SUPPORTED, CONTRADICTED):
        side = _side(corroboration, 0.0, above)
        found = ("it was not computed" if not usable(corroboration) else
                 "it has no 95% interval, so it cannot confirm it" if side == NOT_TESTABLE else
                 "it does" if side == verdict else "it does not")
        evidence += (f" A confident verdict also needs the {results.measure(measure.corroboration).label} (judged "
                     f"against 0) to agree: {found}.")
        verdict = verdict if side == verdict else INCONCLUSIVE
    if in_doubt and (not sign_only or _side(corroboration, 0.0, above) != verdict):
        verdict = INCONCLUSIVE
    if verdict == NOT_TESTABLE:  # an estimate without an interval
        evidence += (" It has no 95% interval, so it cannot be judged against the line"
                     f"{': ' + '; '.join(entry['warnings']) if entry.get('warnings') else ''}.")
    ids = [chosen, measure.check, measure.corroboration] if measure.check else [chosen]
    return _verdict(claim, AGAINST[comparison.kind], rule, verdict, evidence + _listed(tests, claim.evidence),
                    entry=entry, line=line, ids=[i for i in ids if i])


def _reference_rows(document, column):
    """The reference campaigns this campaign was compared with (itself left out), or None."""
    table = pd.DataFrame((document.get("descriptives") or {}).get("reference_set") or [])
    if table.empty or column not in table:
        return None
    return table[~table["left_out"].astype(bool)] if "left_out" in table else table


def _quantile_words(q):
    return "the median" if q == 0.5 else f"the {100 * q:g}th percentile"


def _against_reference(claim, tests, document, settings):
    """Below (or above) the reference set's quantile: fewer (more) than that share of its campaigns lower."""
    measure = results.measure(claim.measure)
    column, percentile_id = measure.reference
    q = claim.comparison.value if claim.comparison.value is not None else settings.reference_quantile
    above = claim.comparison.side == statement.ABOVE
    dataset = document.get("dataset", {})
    entry, percentile = tests.get(claim.measure), tests.get(percentile_id)
    used = _reference_rows(document, column)
    n = len(used) if used is not None else (percentile or {}).get("n")
    rule = (f"supported when the {measure.label} lies {'above' if above else 'below'} {_quantile_words(q)} of the "
            f"reference campaigns at both ends of its 95% interval")
    ids = [claim.measure, percentile_id]
    for test_id, found in ((claim.measure, entry), (percentile_id, percentile)):
        if not usable(found):
            return _verdict(claim, AGAINST[statement.REFERENCE], rule, NOT_TESTABLE,
                            unusable(found, test_id, dataset), line=q, ids=ids)
    evidence = (f"{interval(entry, num)} {measure.label} here; {interval(percentile)} of the {n} reference campaigns "
                "lie below it (the interval is that share at each end of the measure's interval).")
    if used is not None and len(used):
        line = results.reference_quantile(used[column], q)
        low, high = used.loc[used[column].idxmin()], used.loc[used[column].idxmax()]
        evidence += (f" Their {_quantile_words(q).removeprefix('the ')} is {num(line)}; they range from "
                     f"{num(low[column])} ({low['campaign']}) to {num(high[column])} ({high['campaign']}).")
    if any("left out of its own comparison" in w for w in percentile.get("warnings", [])):
        evidence += " The campaign itself is in the reference set and is left out of its own comparison."
    return _verdict(claim, AGAINST[statement.REFERENCE], rule, _beyond_quantile(percentile, q, above),
                    evidence + _listed(tests, claim.evidence), entry=percentile, line=q, ids=ids)


def _beyond_quantile(percentile, q, above):
    """Verdict from the share of reference campaigns lying below the measure, at each end of its interval.

    The line is the set's inverted-CDF q-quantile Q. A value x lies above Q exactly when at least q of the
    campaigns lie below x, and at or below Q when fewer do: so "above" is share >= q, "below" share < q.
    """
    low, high = percentile["ci_low"], percentile["ci_high"]
    if above:
        return SUPPORTED if low >= q else CONTRADICTED if high < q else INCONCLUSIVE
    return SUPPORTED if high < q else CONTRADICTED if low >= q else INCONCLUSIVE


def _against_baseline(claim, tests, document):
    """Below (or above) baseline accounts of the same follower count: the registry's ratio against 1."""
    ratio_id = results.measure(claim.measure).baseline
    entry = tests.get(ratio_id)
    above = claim.comparison.side == statement.ABOVE
    rule = (f"supported when the {results.measure(ratio_id).label} lies wholly {'above' if above else 'below'} 1 "
            "(its 95% interval)")
    if entry is None or any("no baseline accounts were given" in w for w in entry.get("warnings", [])):
        return _verdict(claim, AGAINST[statement.BASELINE], rule, NOT_TESTABLE,
                        "No baseline accounts were given: run with -p baseline=FOLDER_OR_CSV (another run's folder "
                        "or an account table of ordinary accounts) to compare with them.", line=1.0, ids=[ratio_id])
    if not usable(entry) or entry.get("ci_low") is None:
        return _verdict(claim, AGAINST[statement.BASELINE], rule, NOT_TESTABLE,
                        unusable(entry, ratio_id, document.get("dataset")), line=1.0, ids=[ratio_id])
    name = (document.get("dataset", {}).get("baseline") or {}).get("campaign") or "the baseline"
    evidence = (f"At the same follower count, an original tweet of the campaign drew {interval(entry, num)} times "
                f"the engagement of one by {name}'s accounts.")
    return _verdict(claim, AGAINST[statement.BASELINE], rule, _side(entry, 1.0, above),
                    evidence + _listed(tests, claim.evidence), entry=entry, line=1.0, ids=[ratio_id])


def _published(claim, tests, document):
    """A published figure: reproduced when our estimate lies within the tolerance of it."""
    measure, comparison = results.measure(claim.measure), claim.comparison
    value, tolerance = comparison.value, comparison.tolerance
    share = measure.is_share
    rule = (f"reproduced when the {measure.label} lies within {precise(tolerance, share)} of the published "
            f"{precise(value, share)}" if tolerance else f"reproduced when the {measure.label} is exactly "
            f"{precise(value, share)}")
    entry = tests.get(claim.measure)
    if not usable(entry):
        return _verdict(claim, AGAINST[statement.EQUALS], rule, NOT_TESTABLE,
                        unusable(entry, claim.measure, document.get("dataset")), line=value)
    ours = entry["estimate"]
    within = ours == value if measure.exact and not tolerance else \
        abs(ours - value) <= tolerance + FLOAT_SLACK * max(abs(value), abs(ours))
    ours_text = (f"{precise(ours, share)} (95% CI {precise(entry['ci_low'], share)} to "
                 f"{precise(entry['ci_high'], share)})" if entry.get("ci_low") is not None else precise(ours, share))
    evidence = (f"Published: {precise(value, share)} ({claim.source}). Ours: {ours_text}, a difference of "
                f"{precise(ours - value, share)}.")
    return _verdict(claim, AGAINST[statement.EQUALS], rule, REPRODUCED if within else NOT_REPRODUCED,
                    evidence + _listed(tests, claim.evidence), entry=entry, line=value)


def judge(claim: statement.Claim, document: dict, settings: "Settings" = None) -> Verdict:
    """One claim's verdict against a results document."""
    settings = settings or Settings()
    tests = {entry["id"]: entry for entry in document.get("tests", [])}
    kind = claim.comparison.kind
    if kind == statement.REFERENCE:
        return _against_reference(claim, tests, document, settings)
    if kind == statement.BASELINE:
        return _against_baseline(claim, tests, document)
    if kind == statement.EQUALS:
        return _published(claim, tests, document)
    return _against_line(claim, tests, document)


def _counted(counts):
    parts = [f"{counts[verdict]} {verdict}" for verdict in VERDICTS if counts[verdict]]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


@dataclass
class Assessment:
    statement: statement.Statement
    verdicts: list  # one Verdict per claim, in the statement's order
    simulated: bool
    settings: Settings
    warnings: list = field(default_factory=list)  # the statement does not match the results or the campaign

    def to_frame(self) -> pd.DataFrame:
        """The verdicts as a table to sort and filter (one row per claim)."""
        return pd.DataFrame([asdict(v) for v in self.verdicts]).drop(columns="test_ids")

    def counts(self) -> dict:
        verdicts = [v.verdict for v in self.verdicts]
        return {verdict: verdicts.count(verdict) for verdict in VERDICTS}

    def summary(self) -> str:
        """A paragraph: the verdicts counted, then the opening numbers of the first claims with a verdict."""
        data = "a simulated takedown (not real data)" if self.simulated else "the released archive"
        firsts = [v for v in self.verdicts if v.against != AGAINST[statement.EQUALS] and v.verdict != NOT_TESTABLE]
        headline = " ".join(v.evidence.split(". ")[0].rstrip(".") + "." for v in firsts[:3])
        return (f"Tested against {data}, the statement's {len(self.verdicts)} claims received: "
                f"{_counted(self.counts())}. {headline}").strip()

    def to_html(self) -> str:
        """The claims table; claims sharing a text share its cell. Every cell escaped: text comes from the
        statement file and the data."""
        rows = []
        for index, v in enumerate(self.verdicts):
            first = index == 0 or self.verdicts[index - 1].claim != v.claim
            span = 1
            while first and index + span < len(self.verdicts) and self.verdicts[index + span].claim == v.claim:
                span += 1
            lead = (f"<td rowspan='{span}'>{escape(v.claim)}<br><small>{escape(v.source)}</small></td>"
                    if first else "")
            note = f"<br><small>{escape(v.note)}</small>" if v.note else ""
            rows.append(f"<tr data-claim='{escape(v.id)}'>{lead}<td>{escape(v.question)}<br><small>{escape(v.rule)}"
                        f"</small></td><td class='verdict'>{escape(v.verdict)}</td><td>{escape(v.evidence)}{note}</td>"
                        f"<td><small>{escape(v.caveat)}</small></td></tr>")
        return ("<table class='claims'><thead><tr><th>Claim</th><th>Question and rule</th><th>Verdict</th>"
                f"<th>Evidence</th><th>Caveat</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def to_json(self) -> dict:
        """What claims.json holds: the statement tested, the settings and every verdict."""
        head = {key: getattr(self.statement, key) for key in ("by", "date", "url", "quote", "campaign", "title")}
        return {"statement": {**head, **statement.provenance(self.statement)}, "warnings": self.warnings,
                "settings": asdict(self.settings), "claims": [asdict(v) for v in self.verdicts]}


def mismatches(tested: statement.Statement, document: dict) -> list[str]:
    """What the reader must know when the statement is not the one the results were computed for, or names
    another campaign."""
    dataset = document.get("dataset", {})
    computed = dataset.get("statement") or {}
    notes = []
    if computed and computed.get("sha256") != statement.provenance(tested)["sha256"]:
        notes.append(f"The results were computed for the statement {computed.get('name')!r}, not for this one "
                     f"({statement.provenance(tested)['name']!r}): a topic's keywords may differ, and measures it "
                     "names may be missing. Run notebook 02 again with this statement.")
    campaign = str(dataset.get("campaign") or "")
    if dataset.get("simulated"):
        campaign = campaign.removeprefix(statement.SIMULATED_PREFIX)
    if tested.campaign and campaign and tested.campaign != campaign:
        notes.append(f"The statement is about the campaign {tested.campaign!r}, but the data is {campaign!r}.")
    return notes


def evaluate(tested: statement.Statement, document: dict, settings: Settings = Settings()) -> Assessment:
    """Every claim of the statement judged against a results document (results.json as a dict)."""
    return Assessment(tested, [judge(claim, document, settings) for claim in tested.claims],
                      bool(document.get("dataset", {}).get("simulated")), settings, mismatches(tested, document))
