"""DR001: input columns whose distribution moved between the reference and the current data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.lazy import lazy_module
from auditor.util.wording import shorten as _text

from ._common import (
    BACKENDS,
    MAX_ROWS,
    REFERENCE_ROLES,
    Comparison,
    _alibi_cd,
    _as_float,
    _as_text,
    _distribution_figure,
    _full_sample,
    _kind,
    _roles_problem,
    _sig,
    _skip,
    compare_categorical,
    compare_numeric,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext

CORRECTIONS: tuple[str, ...] = ("fdr_bh", "holm", "bonferroni")
FIGURE_COLUMNS = 4


# -- DR001 -----------------------------------------------------------------------------
def _compare_series(name: str, ref: pd.Series, cur: pd.Series, params: dict[str, Any], backend=None) -> Comparison:
    if _kind(ref, cur) == "numeric":
        return compare_numeric(name, _as_float(ref), _as_float(cur), bins=int(params["bins"]), ks=backend and backend.ks)
    return compare_categorical(
        name, _as_text(ref), _as_text(cur), max_levels=int(params["max_levels"]), chi2=backend and backend.chi2
    )


class _AlibiUnivariate:
    """DR001's univariate tests through alibi-detect (KSDrift, ChiSquareDrift), one column at a time."""

    def __init__(self, alpha: float):
        self.cd, self.alpha = _alibi_cd(), alpha

    def ks(self, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        detector = self.cd.KSDrift(a.reshape(-1, 1).astype("float32"), p_val=self.alpha)
        data = detector.predict(b.reshape(-1, 1).astype("float32"), drift_type="feature", return_p_val=True, return_distance=True)["data"]
        return float(np.ravel(data["distance"])[0]), float(np.ravel(data["p_val"])[0])

    def chi2(self, levels: list[str], a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        if len(levels) < 2:
            return 0.0, 1.0
        codes = np.arange(len(levels))
        x_ref = np.repeat(codes, a.astype(np.int64)).reshape(-1, 1)
        x_cur = np.repeat(codes, b.astype(np.int64)).reshape(-1, 1)
        detector = self.cd.ChiSquareDrift(x_ref, p_val=self.alpha, categories_per_feature={0: codes.tolist()})
        data = detector.predict(x_cur, drift_type="feature", return_p_val=True, return_distance=True)["data"]
        return float(np.ravel(data["distance"])[0]), float(np.ravel(data["p_val"])[0])


class FeatureDrift(Check):
    """Input columns whose distribution moved between the reference and the current data

    What it checks:
        Each model input column present in both the reference data (``reference``:
        train by default, or test) and the current (production) sample is compared on
        all rows. Numeric and datetime columns: the two-sample Kolmogorov-Smirnov test
        (``scipy.stats.ks_2samp``; exact up to 10,000 rows per side, the Kolmogorov limit
        distribution above), combined by Bonferroni with a chi-squared test of the
        missing share when values are missing. Other columns: the chi-squared test of the
        level-by-dataset counts (``scipy.stats.chi2_contingency``; missing is a level;
        the ``max_levels`` most frequent levels kept, levels expected fewer than 5 times
        in the smaller sample pooled into ``<other>``). Effect sizes next to each test:
        the population stability index (PSI = Σ (c − r)·ln(c / r) over ``bins`` quantile
        bins of the reference plus a missing bin, or over the levels; shares floored at
        1e-4), the Wasserstein distance (``scipy.stats.wasserstein_distance``) divided by
        the reference's standard deviation so that it reads in standard deviations (a
        shift of the whole distribution by one sd reads 1), and the Jensen-Shannon
        distance (``scipy.spatial.distance.jensenshannon``, base 2, in [0, 1]) on the same
        bins. The p-values are corrected across the columns (``correction``: Benjamini-
        Hochberg by default, or Holm or Bonferroni; ``statsmodels`` ``multipletests``).
        A column is drifted when its corrected p-value is below ``alpha`` (0.05) AND its
        PSI is at least ``psi_threshold`` (0.2): significance alone is not enough, since
        on a million rows a harmless shift of 0.02 standard deviations has p ≈ 1e-29 (PSI
        ≈ 0.0004). PSI 0.2 is the conventional boundary of a significant population
        shift, between 0.1-0.25 "moderate" and above 0.25 "major" (Siddiqi 2006;
        Yurdakul 2018); over deciles of a normal column it is a mean shift of 0.46
        standard deviations, and a shift of one standard deviation reads 0.93. The metric ``drifted_share`` (drifted columns over columns compared)
        warns above 0 (any drifted column deserves a look) and fails above 0.2 (a fifth of
        the inputs moved: the model serves another population). With fewer than
        ``min_rows`` current rows it is not measured (inconclusive). Counts, the largest
        PSI and the smallest corrected p-value (a global test that no column moved, fed
        to the audit-wide correction but not judged) are reported. ``backend: alibi``
        runs the KS and chi-squared tests through alibi-detect's ``KSDrift`` and
        ``ChiSquareDrift`` (same levels, same fields); it needs
        ``pip install auditor[alibi]``.

    Why it matters:
        A model is only as good as the match between the data it learnt from and the
        data it meets. A feature whose distribution moved (a new upstream encoding, a
        unit change, a new customer segment, a sensor fault) puts the model where it has
        little or no training data, and its predictions there are extrapolations that no
        test score vouched for.

    How to fix:
        Read the drifted columns and their figures. A sudden shift in one column is
        usually a pipeline change (units, encodings, defaults for missing values): fix
        the pipeline. A gradual shift across columns is a changing population: retrain
        on recent data, re-evaluate on a recent holdout, and monitor these columns.

    References:
        P6.3, P4.7 and P7.1 of the practices; Rabanser, Günnemann & Lipton, "Failing
        loudly: an empirical study of methods for detecting dataset shift", NeurIPS 2019;
        Siddiqi, "Credit Risk Scorecards", Wiley 2006 (PSI); Yurdakul, "Statistical
        properties of the population stability index", PhD thesis, Western Michigan
        University 2018; Benjamini & Hochberg, JRSS B 57(1), 1995; SciPy ``ks_2samp``,
        ``chi2_contingency``, ``wasserstein_distance``, ``jensenshannon``.
    """

    id = "DR001"
    name = "feature-drift"
    area = "drift"
    severity = "high"
    needs = frozenset({"current"})
    params = {
        "reference": Param(default="train", kind="str", choices=REFERENCE_ROLES, help="dataset the current sample is compared with"),
        "alpha": Param(default=0.05, kind="float", low=1e-6, high=0.5, help="significance level of the corrected per-column p-values"),
        "correction": Param(default="fdr_bh", kind="str", choices=CORRECTIONS,
                            help="multiple-testing correction across the columns (statsmodels multipletests)"),
        "psi_threshold": Param(default=0.2, kind="float", low=0.0, high=10.0, help="smallest PSI at which a significant shift counts as drift"),
        "bins": Param(default=10, kind="int", low=2, high=100, help="quantile bins of the reference for the PSI and JS of numeric columns"),
        "max_levels": Param(default=50, kind="int", low=2, high=10_000, help="most frequent levels kept per categorical column; the rest pooled"),
        "min_rows": Param(default=30, kind="int", low=1, high=1_000_000, help="current rows below which drift is not judged (inconclusive)"),
        "backend": Param(default="scipy", kind="str", choices=BACKENDS,
                         help="'alibi' runs the univariate tests through alibi-detect (pip install auditor[alibi])"),
    }
    thresholds = {
        "drifted_share": Threshold(
            direction="above", warn=0.0, fail=0.2, low=0, high=1,
            help="share of compared input columns that drifted (significant and PSI at least psi_threshold)",
        )
    }
    practices = ("P6.3", "P4.7", "P7.1")
    clauses = (
        "eu_ai_act:Art. 9", "eu_ai_act:Art. 10", "eu_ai_act:Art. 15",
        "nist_ai_rmf:MEASURE 2.4", "nist_ai_rmf:MANAGE 4.1",
        "iso_42001:A.6.2.6",
    )
    references = (
        "Rabanser, Günnemann & Lipton, Failing loudly: an empirical study of methods for detecting dataset shift, NeurIPS 2019",
        "Siddiqi, Credit Risk Scorecards, Wiley 2006 (population stability index)",
        "Yurdakul, Statistical properties of the population stability index, Western Michigan University 2018",
        "Benjamini & Hochberg, Controlling the false discovery rate, JRSS B 57(1), 1995",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.ks_2samp.html",
        "https://www.statsmodels.org/stable/generated/statsmodels.stats.multitest.multipletests.html",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        reference = params["reference"]
        if (problem := _roles_problem(ctx, reference)) is not None:
            return _skip(problem)
        ref_frame, cur_frame = ctx.frame(reference), ctx.frame("current")
        cols = [c for c in ctx.features if c in ref_frame.columns and c in cur_frame.columns]
        absent = [c for c in ctx.features if c not in cols]
        if not cols:
            return _skip(f"the {reference} and current data share no model input column.")
        backend = _AlibiUnivariate(float(params["alpha"])) if params["backend"] == "alibi" else None
        comparisons = [_compare_series(c, ref_frame[c], cur_frame[c], params, backend) for c in cols]
        tested = [c for c in comparisons if c.p_value is not None]
        alpha, cutoff = float(params["alpha"]), float(params["psi_threshold"])
        if tested:
            from statsmodels.stats.multitest import multipletests

            corrected = multipletests([c.p_value for c in tested], method=params["correction"])[1]
            for c, q in zip(tested, corrected):
                c.corrected = float(q)
                c.drifted = bool(q < alpha and c.psi is not None and c.psi >= cutoff)
        drifted = [c for c in tested if c.drifted]
        n_current = len(cur_frame)
        enough = n_current >= int(params["min_rows"])
        share = len(drifted) / len(tested) if tested and enough else None
        ranked = sorted(comparisons, key=lambda c: (not c.drifted, -(c.psi if c.psi is not None else -1.0), c.name))
        rows = [
            [_text(c.name), c.test, _sig(c.statistic), _sig(c.p_value, 3), _sig(c.corrected, 3), _sig(c.psi),
             _sig(c.wasserstein), _sig(c.js), c.drifted]
            for c in ranked[:MAX_ROWS]
        ]
        notes = [
            f"Drifted: corrected p < {alpha:g} ({params['correction']} over {wording.count(len(tested), 'column')}) and PSI ≥ {cutoff:g}.",
            "Wasserstein in reference standard deviations; JS distance base 2.",
        ]
        untested = [c for c in comparisons if c.p_value is None]
        if untested:
            notes.append("Not tested: " + "; ".join(f"{_text(c.name)} ({c.note})" for c in untested[:5]) + ".")
        if absent:
            notes.append(f"Model inputs missing from the {reference} or current data: {', '.join(_text(c) for c in absent[:5])}.")
        if len(ranked) > MAX_ROWS:
            notes.append(f"{len(ranked) - MAX_ROWS} more columns with smaller shifts are not shown.")
        evidence = [Evidence(
            title=f"Input columns, current against {reference} (drifted first, then by PSI)",
            columns=["column", "test", "statistic", "p", "corrected p", "PSI", "Wasserstein (sd)", "JS distance", "drifted"],
            rows=rows,
            note=" ".join(notes),
        )]
        with_missing = [c for c in ranked if c.missing_reference > 0 or c.missing_current > 0][:MAX_ROWS]
        if with_missing:
            evidence.append(Evidence(
                title="Missing values in the compared columns",
                columns=["column", "missing in reference", "missing in current"],
                rows=[[_text(c.name), _sig(c.missing_reference, 3), _sig(c.missing_current, 3)] for c in with_missing],
                note="Missing values count as a level of categorical columns and as a bin of their own in the PSI and JS "
                     "of numeric ones, whose p-value then also tests the missing share.",
            ))
        figures = []
        shown = [c for c in ranked if c.psi is not None][:FIGURE_COLUMNS]
        if shown:
            values = {
                c.name: (_as_float(ref_frame[c.name]), _as_float(cur_frame[c.name])) for c in shown if c.kind == "numeric"
            }
            figures.append(_distribution_figure(
                shown, values, reference, title=f"Largest shifts, current against {reference}",
                caption="Densities of numeric columns (0.5-99.5% range) and shares of categorical levels (largest changes)"
                        f"; {wording.count(len(drifted), 'column')} drifted.",
            ))
        min_q = min((c.corrected for c in tested), default=None)
        top = ranked[0] if ranked else None
        if not enough:
            verdict = (f"only {wording.count(n_current, 'current row')}, fewer than the {int(params['min_rows'])} needed "
                       "to judge drift")
        elif drifted:
            verdict = (f"{wording.count(len(drifted), 'column')} of {len(tested)} drifted "
                       f"({wording.share(len(drifted) / len(tested))}): "
                       + ", ".join(f"{_text(c.name)} (PSI {c.psi:.2f})" for c in drifted[:5])
                       + (", …" if len(drifted) > 5 else ""))
        elif tested:
            verdict = (f"none of {wording.count(len(tested), 'column')} drifted; the largest shift is "
                       f"{_text(top.name)} (PSI {top.psi:.3f}, corrected p = {top.corrected:.2g})")
        else:
            verdict = "no column could be tested"
        summary = (
            f"Compared {wording.count(len(cols), 'input column')} of the current sample ({n_current:,} rows) with the "
            f"{reference} data ({len(ref_frame):,} rows): {verdict}."
        )
        return Findings(
            summary=summary,
            metrics={
                "drifted_share": Metric(share, description=f"share of compared columns drifted (corrected p < {alpha:g} and PSI ≥ {cutoff:g})"),
                "drifted_columns": Metric(len(drifted), description="number of drifted input columns"),
                "columns_compared": Metric(len(tested), description="number of input columns tested"),
                "max_psi": Metric(max((c.psi for c in tested if c.psi is not None), default=None), description="largest PSI over the columns"),
                "global_p_value": Metric(min_q, description=f"smallest {params['correction']}-corrected p-value: a global test that no column moved",
                                         p_value=True),
            },
            evidence=evidence,
            figures=figures,
            recommendation=(
                "Look at the drifted columns first: a sudden shift in one column is usually a pipeline change "
                "(units, encodings, defaults for missing values) to fix upstream; a gradual shift across columns is a "
                "changing population: retrain on recent data, re-evaluate on a recent holdout, and monitor these columns."
                if drifted
                else "Nothing to change; keep comparing production data with the training data on a schedule."
            ),
            sample=_full_sample(ctx, (reference, "current"), self.id),
        )
