"""The reduced battery's lines (``validation/reduced.jsonl``, from ``make validate-reduced``) as Markdown tables,
each rate with its exact (Clopper-Pearson) 95% interval, and issue 24's Done-when lines checked against them.

    python validation/reduced_tables.py validation/reduced.jsonl > validation/reduced.md
"""

import json
import sys

from statsmodels.stats.proportion import proportion_confint

from helpers.report import claims

CONFIDENT = (claims.SUPPORTED, claims.CONTRADICTED)


def rate(count, n):
    if not n:
        return "–"
    low, high = proportion_confint(count, n, alpha=0.05, method="beta")
    return f"{count} of {n} ({low:.2f}-{high:.2f})"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows] + [""]


def shape(lines):
    rows = [(line["cell"], rate(line["fires"], line["fits"]), rate(line["overlap_fires"], line["fits"]))
            for line in lines]
    return _table(["cell (design:mechanism:elasticity:curve)", "shape check fires (1%)",
                   "PPML and NB apart (for comparison)"], rows)


def claim4(lines):
    rows = []
    for line in lines:
        n = sum(line["verdicts"].values())
        confident = sum(line["verdicts"].get(v, 0) for v in CONFIDENT)
        other = line.get("verdicts_other_rule", {})
        rows.append((line["cell"], rate(confident, n), _verdicts(line["verdicts"]),
                     _verdicts(other) if other else "–", rate(line["nb_covers"], n),
                     rate(line["spearman_excludes0"], n), rate(line["within_strata_excludes0"], n)))
    return _table(["cell (design:mechanism:elasticity[:curve])", "claim 4 confident", "verdicts",
                   "verdicts under the other corroboration rule", "NB covers", "overall Spearman excludes 0",
                   "within-strata Spearman excludes 0"], rows)


def _verdicts(counts):
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def batches(lines):
    rows = [(line["cell"], rate(line["account_level_covers"], line["fits"]),
             rate(line["reported_covers"], line["fits"]), rate(line["warned"], line["fits"]),
             rate(line["misses_warned"], line["account_level_misses"]),
             rate(line["clustered_covers_CR2"], line["fits"]), _verdicts(line["verdicts"]))
            for line in lines]
    return _table(["cell (design:mechanism:elasticity:size:shared variance:along[:seen])", "account-level covers",
                   "reported covers", "`clustered:` warns", "account-level misses warned", "CR2 covers", "claim 4"],
                  rows)


def exposure(lines):
    rows = [(line["cell"], rate(line["score_rejects"], line["replicates"]),
             rate(line["spearman_within_rejects"], line["replicates"])) for line in lines]
    return _table(["cell", "score test within strata rejects (5%)", "within-strata Spearman rejects (5%)"], rows)


def definition(lines):
    rows = [(line["cell"], rate(line["account_level_covers"], line["fits"]),
             *(f"{rate(line[f'reported_covers_{unit}'], line['fits'])} · {line[f'warned_{unit}']}"
               for unit in ("day", "week"))) for line in lines]
    return _table(["cell (...:span in days)", "account-level covers", "by day: covers · warns",
                   "by week: covers · warns"], rows)


def kind(line):
    if "fires" in line:
        return "shape"
    if "nb_covers" in line:
        return "claim4"
    if "score_rejects" in line:
        return "exposure"
    return "definition" if "reported_covers_day" in line else "batches"


def done_when(lines):
    """Issue 24's Done-when lines, as counted here."""
    out = []
    null = [line for line in lines if kind(line) == "claim4" and line["cell"].split(":")[2] == "0"
            and not line["cell"].endswith(":step")]
    null += [line for line in lines if kind(line) == "batches" and line["cell"].split(":")[2] == "0"]
    worst = max(null, default=None, key=lambda line: sum(line["verdicts"].get(v, 0) for v in CONFIDENT)
                / max(1, sum(line["verdicts"].values())))
    if worst:
        n = sum(worst["verdicts"].values())
        confident = sum(worst["verdicts"].get(v, 0) for v in CONFIDENT)
        out.append(f"- claim 4 confident under no association, worst of {len(null)} cells: {worst['cell']}, "
                   f"{rate(confident, n)} (target at most 5%, required at most 10%)")
    for line in (line for line in lines if kind(line) == "batches" and line["cell"].count(":") == 5
                 and float(line["cell"].split(":")[4]) > 0):
        covers = line["reported_covers"] / line["fits"]
        warned = line["misses_warned"] / line["account_level_misses"] if line["account_level_misses"] else 1.0
        out.append(f"- batches by creation date, {line['cell']}: reported covers {covers:.2f}, account-level misses "
                   f"warned {warned:.2f}: {'holds' if covers >= 0.9 or warned >= 0.9 else 'FAILS'}")
    for curve, target in (("step", 0.8), ("log_linear", 0.1)):
        for line in (line for line in lines if kind(line) == "shape" and line["cell"].endswith(curve)):
            share = line["fires"] / line["fits"]
            ok = share >= target if curve == "step" else share <= target
            out.append(f"- shape check on {line['cell']}: fires {share:.2f} "
                       f"({'at least' if curve == 'step' else 'at most'} {target}): {'holds' if ok else 'FAILS'}")
    return out + [""]


def main(paths):
    lines = [json.loads(text) for path in paths for text in open(path) if text.strip()]
    out = []
    for name, render in (("Shape check", shape), ("Claim 4", claim4), ("Batches", batches),
                         ("Creation day or week", definition), ("Score test within tweet strata", exposure)):
        chosen = [line for line in lines if kind(line) == render.__name__]
        if chosen:
            seeds = sorted({tuple(line["seeds"]) for line in chosen})
            out += [f"### {name} (seeds {', '.join(f'{a}-{b}' for a, b in seeds)})", ""] + render(chosen)
    print("\n".join(out + ["### Issue 24's Done-when lines", ""] + done_when(lines)))


if __name__ == "__main__":
    main(sys.argv[1:])
