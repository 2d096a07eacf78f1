"""Paired comparisons of two arms tested on the same faces, with training seeds and test subjects as random units.

Why not a bootstrap over seeds and faces: with 3 seeds a seed bootstrap has 10 distinct resamples, and resampling
faces one by one ignores that faces are nested in test subjects; such a test rejected a true null at 8.5% at a
nominal 5%. Here a comparison is a two-way crossed layout: every seed trains both arms, and both are tested on
every face of every test subject. The gains form a (seed x subject) table; its ANOVA mean squares give the
variance of the mean gain,

    var = (MS_seed + MS_subject - MS_residual) / (seeds x subjects),

the subject term dropped when its estimate is negative (REML's boundary), the seed term always kept (two training
runs always differ; a zero estimate from 2 degrees of freedom is noise). A t with Satterthwaite's degrees of
freedom gives the interval and the p-value: lmerTest's test for `gain ~ 1 + (1|seed) + (1|subject)` in a balanced
design. No maintained Python library has that test for crossed factors (statsmodels' MixedLM nests them), so the
closed form is here; being closed, the level simulation in tests/test_inference.py is cheap enough for every CI
run. The same components give the minimal detectable effect and the seeds a target effect needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats
from scipy.special import expit

if TYPE_CHECKING:
    import pandas as pd

ALPHA = 0.05
POWER = 0.80
MAX_SEEDS = 1000
"""Seeds a target effect needs are searched up to this count; beyond it more seeds alone do not get there: the
test subjects' share of the variance does not shrink with seeds."""


@dataclass(frozen=True)
class Components:
    """Variance components of a (seeds x subjects) table of gains: seed, subject and residual (cell) variance.
    Arrays, so that one call handles many tables (the simulation's replicates)."""

    seed: np.ndarray
    subject: np.ndarray
    residual: np.ndarray


def subject_cells(diffs: np.ndarray, subjects: np.ndarray) -> np.ndarray:
    """(seeds, faces) per-face gains -> (seeds, subjects) cells whose plain mean is the face-weighted mean gain.

    A cell is its subject's sum of gains over the mean number of faces per subject: a subject with more faces
    weighs more, as it does in the accuracy itself (the cluster totals of a cluster-robust variance)."""
    names, index = np.unique(np.asarray(subjects), return_inverse=True)
    sums = np.zeros((diffs.shape[0], len(names)))
    np.add.at(sums, (slice(None), index), diffs)
    return sums / (diffs.shape[1] / len(names))


def variance_components(cells: np.ndarray) -> Components:
    """ANOVA estimates from cells of shape (..., seeds, subjects). The seed component is the seed means' spread
    less the residual's share of it, kept positive only through the mean square (see variance_of_mean)."""
    n_seeds, n_subjects = cells.shape[-2:]
    grand = cells.mean(axis=(-2, -1), keepdims=True)
    by_seed = cells.mean(axis=-1, keepdims=True)
    by_subject = cells.mean(axis=-2, keepdims=True)
    ms_seed = n_subjects * ((by_seed - grand) ** 2).sum(axis=(-2, -1)) / max(n_seeds - 1, 1)
    ms_subject = n_seeds * ((by_subject - grand) ** 2).sum(axis=(-2, -1)) / max(n_subjects - 1, 1)
    if n_subjects == 1 or n_seeds == 1:  # one random factor: its units' spread is all there is
        zero = np.zeros_like(ms_seed)
        return Components(ms_seed, zero, zero) if n_subjects == 1 else Components(zero, ms_subject, zero)
    ms_residual = ((cells - by_seed - by_subject + grand) ** 2).sum(axis=(-2, -1)) / ((n_seeds - 1) * (n_subjects - 1))
    return Components(
        (ms_seed - ms_residual) / n_subjects, np.maximum(ms_subject - ms_residual, 0) / n_seeds, ms_residual
    )


def variance_of_mean(c: Components, n_seeds: int, n_subjects: int) -> tuple[np.ndarray, np.ndarray]:
    """Variance of the mean gain at this many seeds and subjects, and its Satterthwaite degrees of freedom.

    Written with the mean squares the components imply (MS_seed = subjects x seed + residual, MS_subject =
    seeds x subject + residual): the seed mean square always, the subject one less the residual only where the
    subject component is positive. At the observed counts this is the ANOVA estimate itself; at other seed
    counts it is the expected design (for power)."""
    if n_subjects == 1:
        return np.asarray(c.seed / n_seeds, dtype=float), np.full(np.shape(c.seed), float(n_seeds - 1))
    if n_seeds == 1:
        return np.asarray(c.subject / n_subjects, dtype=float), np.full(np.shape(c.subject), float(n_subjects - 1))
    ms_seed = np.maximum(n_subjects * c.seed + c.residual, 0.0)
    ms_subject = n_seeds * c.subject + c.residual
    subject_on = c.subject > 0
    residual_df = (n_seeds - 1) * (n_subjects - 1)
    total = ms_seed + np.where(subject_on, ms_subject - c.residual, 0.0)
    spread = ms_seed**2 / (n_seeds - 1) + np.where(
        subject_on, ms_subject**2 / (n_subjects - 1) + c.residual**2 / residual_df, 0.0
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(spread > 0, total**2 / np.where(spread > 0, spread, 1.0), np.inf)
    return total / (n_seeds * n_subjects), df


def _t_quantile(q: float, df: np.ndarray) -> np.ndarray:
    return stats.t.ppf(q, np.where(np.isfinite(df), df, 1e9))


def crossed_test(cells: np.ndarray, alpha: float = ALPHA) -> dict[str, np.ndarray]:
    """Mean gain, its standard error and degrees of freedom, the two-sided p-value and the (1 - alpha) interval,
    for cells of shape (..., seeds, subjects). One seed, or a nonzero gain with no spread at all: no p-value and no
    interval (nothing says how much another training run or subject would differ)."""
    n_seeds, n_subjects = cells.shape[-2:]
    gain = cells.mean(axis=(-2, -1))
    c = variance_components(cells)
    var, df = variance_of_mean(c, n_seeds, n_subjects)
    se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, np.abs(gain) / np.where(se > 0, se, 1.0), np.where(gain == 0, 0.0, np.inf))
    p = 2 * stats.t.sf(t, np.where(np.isfinite(df), df, 1e9))
    half = _t_quantile(1 - alpha / 2, df) * se
    # a gain without any spread (every seed and subject the same nonzero number: classifiers stuck on one class)
    # is no evidence of certainty: no test. Identical predictions (gain 0, no spread) keep p = 1.
    degenerate = (se == 0) & (gain != 0)
    p, half = np.where(degenerate, np.nan, p), np.where(degenerate, np.nan, half)
    if n_seeds < 2:
        p, half = np.full_like(gain, np.nan), np.full_like(gain, np.nan)
    return {
        "gain": gain,
        "se": se,
        "df": df,
        "ci_low": gain - half,
        "ci_high": gain + half,
        "p_value": p,
        "var_seed": c.seed,
        "var_subject": c.subject,
        "var_residual": c.residual,
    }


def detectable_effect(
    c: Components, n_seeds: int, n_subjects: int, alpha: float = ALPHA, power: float = POWER
) -> np.ndarray:
    """The smallest true gain that a two-sided level-alpha test finds with the given power, at this many seeds:
    (t_{1-alpha/2} + t_power) x standard error, t at the design's degrees of freedom."""
    var, df = variance_of_mean(c, n_seeds, n_subjects)
    return (_t_quantile(1 - alpha / 2, df) + _t_quantile(power, df)) * np.sqrt(var)


def seeds_needed(c: Components, n_subjects: int, target: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """Fewest seeds at which a gain of `target` is detectable with this power; inf when no count up to
    MAX_SEEDS does it (the test subjects' variance alone is too large: more test subjects would be needed).
    A negative seed estimate counts as zero here: a design is planned on variances, not on noise below zero."""
    c = Components(np.maximum(c.seed, 0.0), c.subject, c.residual)
    for n in range(2, MAX_SEEDS + 1):
        if float(detectable_effect(c, n, n_subjects, alpha, power)) <= abs(target):
            return float(n)
    return float("inf")


def holm(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values: family-wise error at most alpha over the family. scipy has Benjamini-
    Hochberg (`false_discovery_control`) but not Holm. NaN (no test) stays NaN and is not counted."""
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    m = len(order)
    out[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return out


def benjamini_hochberg(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Benjamini-Hochberg q-values (scipy's), NaN left out of the count."""
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        out[tested] = stats.false_discovery_control(p[tested], method="bh")
    return out


VERDICTS = ("gain", "loss", "no difference of the target size", "inconclusive")


def verdict(gain: float, ci_low: float, ci_high: float, p_adjusted: float, target: float, alpha: float = ALPHA) -> str:
    """What one comparison shows: a gain or a loss (its family-adjusted p below alpha); no difference as large as
    the target (the interval inside +-target); otherwise inconclusive (the interval holds 0 and a target-sized
    effect, or no test was possible)."""
    if np.isnan(p_adjusted):
        return "inconclusive"
    if p_adjusted < alpha:
        return "gain" if gain > 0 else "loss"
    if -abs(target) < ci_low and ci_high < abs(target):
        return "no difference of the target size"
    return "inconclusive"


def adjust_families(table: pd.DataFrame, target: float, alpha: float = ALPHA) -> pd.DataFrame:
    """Holm-adjusted p (and BH q) within each `family` of a comparisons table, its size, and each row's verdict.

    The families are decided by the caller (a ratio grid per arm and test set; selection; study 2): a word
    "significant" anywhere in the report uses p_holm, so each family's chance of any false claim is at most alpha."""
    import pandas as pd

    parts = []
    for _, group in table.groupby("family", sort=False):
        group = group.copy()
        group["n_tests"] = int(group["p_value"].notna().sum())
        group["p_holm"] = holm(group["p_value"].to_numpy())
        group["q_bh"] = benjamini_hochberg(group["p_value"].to_numpy())
        parts.append(group)
    out = pd.concat(parts).loc[table.index] if parts else table.assign(n_tests=[], p_holm=[], q_bh=[])
    out["verdict"] = [verdict(r.gain, r.ci_low, r.ci_high, r.p_holm, target, alpha) for r in out.itertuples()]
    return out


def simulate_gains(
    rng: np.random.Generator,
    reps: int,
    seeds: int,
    subjects: int,
    faces: int,
    effect: float = 0.0,
    sd_seed: float = 0.5,
    sd_subject: float = 0.3,
    sd_seed_subject: float = 0.3,
) -> np.ndarray:
    """Per-face gains of simulated studies, (reps, seeds, subjects x faces), each correct(arm k) - correct(baseline).
    (Nine parameters: the study's design, then the effect and the model's variance components, each a knob of
    the simulation.)

    The model a study's data come from: per face whether each arm's classifier is right, logistic in a face
    difficulty both arms share (the pairing), plus per arm a training-run (seed) effect, a test-subject effect
    and a seed x subject effect, and `effect` (logit) for arm k. New test subjects every replicate: the test
    subjects are a sample, as in the question asked. The defaults are the demo's scale (about 7 accuracy points
    between training runs). Used to check the test's level and power (tests/test_inference.py,
    scripts/inference_level.py)."""
    difficulty = rng.normal(0.6, 1.0, (reps, 1, subjects, faces)) + rng.normal(0, 0.5, (reps, 1, subjects, 1))
    correct = []
    for arm_effect in (effect, 0.0):
        logit = (
            difficulty
            + arm_effect
            + rng.normal(0, sd_seed, (reps, seeds, 1, 1))
            + rng.normal(0, sd_subject, (reps, 1, subjects, 1))
            + rng.normal(0, sd_seed_subject, (reps, seeds, subjects, 1))
        )
        correct.append(rng.random(logit.shape) < expit(logit))
    return (correct[0].astype(float) - correct[1]).reshape(reps, seeds, subjects * faces)
