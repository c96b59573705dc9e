"""FR003 group-sample-size: rows and positive labels in each group."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.lazy import lazy_module
from auditor.util.wording import shorten as _text

from ._common import (
    _SENSITIVE_PARAMS,
    JOIN,
    MAX_ROWS,
    _missing_sensitive,
    _skip,
    sensitive_attributes,
)

np = lazy_module("numpy")


class GroupSampleSize(Check):
    """Rows and positive labels in each group

    What it checks:
        Every group of each sensitive feature and of their intersections (``max_order``),
        with its test rows, its share, and for binary tasks its rows of each label (for
        multiclass tasks, rows of its rarest class). The judged metric ``small_groups`` is
        the number of groups with fewer than ``min_group_rows`` rows (30 by default, the
        same default as FR001 and FR002, which leave such groups out of their
        comparisons); it warns above 0. Reported as well: the smallest group's rows, and
        for binary tasks the groups with fewer than ``min_group_labels`` rows of either
        label (FR002 leaves them out of its true- and false-positive-rate comparisons).

    Why it matters:
        A rate measured on a dozen rows is noise: one row moves it by several points, and
        a disparity computed from it can say anything. Small groups are also where models
        most often fail, because they were small in training too. Saying which groups the
        audit could not measure is part of the result.

    How to fix:
        Collect more test rows for the small groups (stratify the test split by the
        sensitive features), or merge groups where that is meaningful and documented, or
        state in the model's documentation that those groups were not assessed. Lowering
        ``min_group_rows`` only hides the problem.

    References:
        P8.1 and P4.1 of the practices; Buolamwini & Gebru (2018), Gender shades, FAT*;
        Kearns et al. (2018), Preventing fairness gerrymandering: auditing and learning for
        subgroup fairness, ICML.
    """

    id = "FR003"
    name = "group-sample-size"
    area = "fairness"
    severity = "medium"
    needs = frozenset({"test", "sensitive"})
    params = {
        **_SENSITIVE_PARAMS,
        "min_group_labels": Param(default=10, kind="int", low=1, high=1_000_000,
                                  help="binary tasks: rows of each label below which a group's error rates are not compared"),
    }
    thresholds = {
        "small_groups": Threshold(direction="above", warn=0, low=0,
                                  help="groups or intersections with fewer than min_group_rows test rows"),
    }
    practices = ("P8.1", "P4.1")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.11", "iso_42001:A.5.4")
    references = (
        "Buolamwini & Gebru (2018), Gender shades, FAT*",
        "Kearns, Neel, Roth & Wu (2018), Preventing fairness gerrymandering, ICML",
    )

    def run(self, ctx, params):
        missing = _missing_sensitive(ctx, "test")
        if missing:
            return _skip(f"the test data lacks the sensitive column(s) {', '.join(repr(c) for c in missing)}.")
        frame = ctx.frame("test").reset_index(drop=True)
        n = len(frame)
        if n == 0:
            return _skip("the test data has no rows.")
        min_rows = params["min_group_rows"]
        attrs = sensitive_attributes(frame, list(ctx.sensitive), max_order=params["max_order"],
                                     max_levels=params["max_levels"], numeric_bins=params["numeric_bins"])
        y = ctx.y("test")
        labelled = None if y is None else y.notna().to_numpy()
        codes = None
        if y is not None and ctx.is_classification and ctx.classes:
            from auditor.toolkit.stats import encode_labels

            codes = encode_labels(y.to_numpy(dtype=object), list(ctx.classes))
            codes[~labelled] = -1
        binary = ctx.task == "binary" and codes is not None
        positive = ctx.positive_index if binary else None
        rows, few_labels = [], 0
        min_labels = params["min_group_labels"]
        for ai, attr in enumerate(attrs):
            for g, group in enumerate(attr.groups):
                in_g = attr.codes == g
                size = int(attr.sizes[g])
                row = [_text(attr.name), _text(group), size, size / n]
                if binary:
                    pos = int(np.sum(in_g & (codes == positive)))
                    neg = int(np.sum(in_g & (codes >= 0) & (codes != positive)))
                    row += [pos, neg]
                    few_labels += int(pos < min_labels or neg < min_labels)
                elif codes is not None:
                    per_class = np.bincount(codes[in_g & (codes >= 0)], minlength=len(ctx.classes))
                    row += [int(per_class.min())]
                row.append("yes" if size < min_rows else "")
                rows.append((size >= min_rows, ai, g, row))
        small = [r for r in rows if not r[0]]
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        columns = ["attribute", "group", "rows", "share"]
        columns += [f"labelled {_text(ctx.positive_label)}", "other labels"] if binary else (["rows of its rarest class"] if codes is not None else [])
        columns.append(f"below {min_rows} rows")
        note = f"Test rows per group; intersections join values with '{JOIN.strip()}'."
        if len(rows) > MAX_ROWS:
            note += f" Showing {MAX_ROWS} of {len(rows)} groups, the small ones first."
        smallest = min(rows, key=lambda r: r[3][2])[3]
        metrics = {
            "small_groups": Metric(len(small), description=f"groups with fewer than {min_rows} test rows"),
            "groups": Metric(len(rows), description="groups and intersections"),
            "smallest_group_rows": Metric(int(smallest[2]), description=f"test rows of the smallest group ({smallest[0]}: {smallest[1]})"),
        }
        if binary:
            metrics["groups_with_few_labels"] = Metric(few_labels, description=f"groups with fewer than {min_labels} test rows of a label")
        names = ", ".join(_text(a.name) for a in attrs)
        summary = (f"{wording.count(len(rows), 'group')} across {names}; the smallest, {smallest[1]} ({smallest[0]}), "
                   f"has {wording.count(int(smallest[2]), 'test row')}.")
        if small:
            shown = ", ".join(f"{r[3][1]} ({r[3][0]}, {r[3][2]} rows)" for r in small[:5])
            summary += (f" {wording.count(len(small), 'group')} {'has' if len(small) == 1 else 'have'} fewer than {min_rows} rows "
                        f"and cannot be compared reliably: {shown}" + (" and more" if len(small) > 5 else "") + ".")
        if binary and few_labels:
            summary += (f" {wording.count(few_labels, 'group')} {'has' if few_labels == 1 else 'have'} fewer than {min_labels} "
                        "rows of a label, too few to compare error rates.")
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=[Evidence(title="Test rows per group", columns=columns, rows=[r[3] for r in rows[:MAX_ROWS]], note=note)],
            recommendation=(
                "Collect more test rows for the small groups (stratify the split by the sensitive features) or state that "
                "they were not assessed; do not read their rates."
                if small else "Every group is large enough to compare; keep stratifying the test split by the sensitive features."
            ),
        )
