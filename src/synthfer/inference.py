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

A claim about the method ("StarGAN's faces help") generalises over GAN training runs too: each run is one draw of
the generated faces, shared by the seeds that trained on it. With seeds spread over R >= 2 GAN runs the test is
the same crossed test on the runs' means (runs x subjects): seeds are nested in runs, and a run's mean carries
its seeds' spread, so the variance of the mean gain is (MS_run + MS_subject - MS_run x subject) / (runs x
subjects), exactly the nested design's estimate when every run has as many seeds. Its degrees of freedom come
from R, not from the seed count: two runs make a valid but weak test. With one GAN run the seed test is
conditional on that run (tested for these faces, not for the method); the report says so.
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


def equivalence_p(gain: np.ndarray, se: np.ndarray, df: np.ndarray, target: float) -> np.ndarray:
    """Two one-sided tests (TOST) of |true gain| >= target: the larger of the two one-sided p-values. Below alpha
    (after its family's correction) the comparison shows no difference as large as the target. A zero standard
    error (identical predictions) gives 0 inside the target and 1 outside; NaN stays NaN."""
    gain, se = np.asarray(gain, dtype=float), np.asarray(se, dtype=float)
    d = np.where(np.isfinite(df), df, 1e9)
    with np.errstate(divide="ignore", invalid="ignore"):
        below = stats.t.sf((gain + abs(target)) / se, d)  # H0: gain <= -target
        above = stats.t.sf((abs(target) - gain) / se, d)  # H0: gain >= +target
    return np.maximum(below, above)


def verdict(gain: float, p_adjusted: float, p_equivalence_adjusted: float, alpha: float = ALPHA) -> str:
    """What one comparison shows: a gain or a loss (its multiplicity-adjusted p below alpha); no difference as
    large as the target (its adjusted equivalence p below alpha: an equivalence claim is corrected as a gain
    is); otherwise inconclusive (the data hold both 0 and a target-sized effect, or no test was possible)."""
    if np.isnan(p_adjusted):
        return "inconclusive"
    if p_adjusted < alpha:
        return "gain" if gain > 0 else "loss"
    if not np.isnan(p_equivalence_adjusted) and p_equivalence_adjusted < alpha:
        return "no difference of the target size"
    return "inconclusive"


def adjust_families(table: pd.DataFrame, target: float, alpha: float = ALPHA) -> pd.DataFrame:
    """Holm-adjusted p (and BH q) within each `family` of a comparisons table, its size, the Holm-adjusted
    equivalence p, and each row's verdict.

    The families are decided by the caller (a ratio grid per arm and test set; selection; study 2): a word
    "significant" anywhere in the report uses p_holm, so each family's chance of any false claim is at most alpha;
    "no difference of the target size" uses p_equivalence_holm, so the same holds for equivalence claims."""
    import pandas as pd

    parts = []
    equivalence = equivalence_p(table["gain"], table["se"], table["df"], target)
    table = table.assign(p_equivalence=np.where(table["p_value"].isna(), np.nan, equivalence))  # no test, no claim
    for _, group in table.groupby("family", sort=False):
        group = group.copy()
        group["n_tests"] = int(group["p_value"].notna().sum())
        group["p_holm"] = holm(group["p_value"].to_numpy())
        group["q_bh"] = benjamini_hochberg(group["p_value"].to_numpy())
        group["p_equivalence_holm"] = holm(group["p_equivalence"].to_numpy())
        parts.append(group)
    out = pd.concat(parts).loc[table.index]
    out["verdict"] = [verdict(r.gain, r.p_holm, r.p_equivalence_holm, alpha) for r in out.itertuples()]
    return out


FAMILY_COLUMNS = ["p_equivalence", "n_tests", "p_holm", "q_bh", "p_equivalence_holm", "verdict"]
"""What adjust_families adds to a comparisons table."""

STUDY_COLUMNS = ["p_holm_study", "p_equivalence_holm_study", "verdict_study"]
"""What adjust_study adds: Holm over every comparison of the study at once."""


def adjust_study(tables: list[pd.DataFrame], alpha: float = ALPHA) -> list[pd.DataFrame]:
    """Holm over every comparison of the study together (all families of all tables), beside the per-family
    correction: the verdicts that survive when the whole report is one family. The tables come back in their
    order, each with STUDY_COLUMNS."""
    import pandas as pd

    sizes = [len(t) for t in tables]
    if not sum(sizes):
        return [t.assign(**{c: [] for c in STUDY_COLUMNS}) for t in tables]
    both = pd.concat([t[["gain", "p_value", "p_equivalence"]] for t in tables if len(t)], ignore_index=True)
    p = holm(both["p_value"].to_numpy())
    p_eq = holm(both["p_equivalence"].to_numpy())
    verdicts = [verdict(g, a, e, alpha) for g, a, e in zip(both["gain"], p, p_eq, strict=True)]
    out, start = [], 0
    for table, n in zip(tables, sizes, strict=True):
        out.append(
            table.assign(
                p_holm_study=p[start : start + n],
                p_equivalence_holm_study=p_eq[start : start + n],
                verdict_study=verdicts[start : start + n],
            )
        )
        start += n
    return out


def gan_run_cells(cells: np.ndarray, seed_runs: np.ndarray | list[int]) -> np.ndarray:
    """(..., seeds, subjects) cells -> (..., runs, subjects): each GAN run's mean over the seeds that trained on
    its faces (runs in sorted order)."""
    runs = np.asarray(seed_runs)
    return np.stack([cells[..., runs == r, :].mean(axis=-2) for r in np.unique(runs)], axis=-2)


def run_mean_squares(cells: np.ndarray, seed_runs: np.ndarray | list[int]) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean squares of the seeds' means (over subjects, times the subject count) between GAN runs and between
    seeds within a run, and the within-run degrees of freedom (0 when no run has two seeds)."""
    runs = np.asarray(seed_runs)
    n_subjects = cells.shape[-1]
    seed_means = cells.mean(axis=-1)
    grand = seed_means.mean(axis=-1)
    between, within, within_df = np.zeros_like(grand), np.zeros_like(grand), 0
    for r in np.unique(runs):
        mine = seed_means[..., runs == r]
        run_mean = mine.mean(axis=-1)
        between = between + mine.shape[-1] * (run_mean - grand) ** 2
        within = within + ((mine - run_mean[..., None]) ** 2).sum(axis=-1)
        within_df += mine.shape[-1] - 1
    between = n_subjects * between / max(len(np.unique(runs)) - 1, 1)
    return between, n_subjects * within / max(within_df, 1), within_df


def run_component_positive(cells: np.ndarray, seed_runs: np.ndarray | list[int]) -> np.ndarray:
    """Whether the GAN runs differ by more than their seeds do: the runs' mean square above the seeds' within
    runs, i.e. a positive GAN-run component. Without two seeds in some run nothing measures the seeds alone, and
    the run component is taken as positive."""
    between, within, within_df = run_mean_squares(cells, seed_runs)
    return np.ones_like(between, dtype=bool) if within_df == 0 else between > within


def gan_run_test(cells: np.ndarray, seed_runs: np.ndarray | list[int], alpha: float = ALPHA) -> dict[str, np.ndarray]:
    """The paired test with the GAN run as a random unit, for (..., seeds, subjects) cells and each seed's run.

    With seeds on two runs or more: crossed_test on the runs' means, where the runs differ by more than their
    seeds do; where they do not (a GAN-run component estimated at or below zero, REML's boundary) the run term
    is dropped and the seeds are the units, as in a one-run study. With one run: the seed test, conditional on
    that run. The level of this rule, by simulation: tests/test_inference.py and docs/statistics.md."""
    if len(np.unique(np.asarray(seed_runs))) < 2:
        return crossed_test(cells, alpha)
    by_run, by_seed = crossed_test(gan_run_cells(cells, seed_runs), alpha), crossed_test(cells, alpha)
    runs_differ = run_component_positive(cells, seed_runs)
    return {name: np.where(runs_differ, by_run[name], by_seed[name]) for name in by_run}


def spread_over_runs(n_seeds: int, gan_runs: int) -> np.ndarray:
    """The GAN run of each of n seeds, as the workflow deals them (synthfer.arms.gan_run_of_seed)."""
    from synthfer.arms import gan_run_of_seed

    return np.array([gan_run_of_seed(i, gan_runs) for i in range(n_seeds)])


@dataclass(frozen=True)
class Design:
    """A simulated study's shape: replicates, training seeds (dealt out over `gan_runs` GAN runs), test subjects,
    faces per subject."""

    reps: int
    seeds: int
    subjects: int
    faces: int
    gan_runs: int = 1


@dataclass(frozen=True)
class Spread:
    """The simulation's standard deviations on the logit scale: training seed, test subject, seed x subject, and
    the GAN run (one draw per run, added to the generated arm only: both arms' classifiers differ by seed, only
    one trained on that run's faces). The defaults are the demo's scale (about 7 accuracy points between
    training runs)."""

    seed: float = 0.5
    subject: float = 0.3
    seed_subject: float = 0.3
    gan_run: float = 0.0


def simulate_gains(
    rng: np.random.Generator, design: Design, effect: float = 0.0, spread: Spread = Spread()
) -> np.ndarray:
    """Per-face gains of simulated studies, (reps, seeds, subjects x faces), each correct(arm k) - correct(baseline).

    The model a study's data come from: per face whether each arm's classifier is right, logistic in a face
    difficulty both arms share (the pairing), plus per arm a training-run (seed) effect, a test-subject effect
    and a seed x subject effect, `effect` (logit) for arm k, and for arm k the GAN run of its seed
    (spread_over_runs). New test subjects and GAN runs every replicate: both are samples, as in the question
    asked. Used to check the test's level and power (tests/test_inference.py, scripts/inference_level.py)."""
    reps, seeds, subjects, faces = design.reps, design.seeds, design.subjects, design.faces
    difficulty = rng.normal(0.6, 1.0, (reps, 1, subjects, faces)) + rng.normal(0, 0.5, (reps, 1, subjects, 1))
    runs = rng.normal(0, spread.gan_run, (reps, max(design.gan_runs, 1)))[:, spread_over_runs(seeds, design.gan_runs)]
    runs = runs + null_offset(np.random.default_rng(0), spread)
    correct = []
    for arm_effect in (effect + runs[:, :, None, None], 0.0):
        logit = (
            difficulty
            + arm_effect
            + rng.normal(0, spread.seed, (reps, seeds, 1, 1))
            + rng.normal(0, spread.subject, (reps, 1, subjects, 1))
            + rng.normal(0, spread.seed_subject, (reps, seeds, subjects, 1))
        )
        correct.append(rng.random(logit.shape) < expit(logit))
    return (correct[0].astype(float) - correct[1]).reshape(reps, seeds, subjects * faces)


def _logits(rng: np.random.Generator, spread: Spread, n: int) -> np.ndarray:
    """Draws of one face's logit in simulate_gains' model (without the GAN run)."""
    return (
        rng.normal(0.6, 1.0, n)
        + rng.normal(0, 0.5, n)
        + rng.normal(0, spread.seed, n)
        + rng.normal(0, spread.subject, n)
        + rng.normal(0, spread.seed_subject, n)
    )


def null_offset(rng: np.random.Generator, spread: Spread, n: int = 400_000) -> float:
    """The logit shift that makes the GAN-run effect mean zero in accuracy: a run effect symmetric on the logit
    scale is not symmetric in accuracy where the logistic curves (most runs would lose a little), so a true null
    in accuracy needs this offset (a few Newton steps on common draws)."""
    if spread.gan_run == 0:
        return 0.0
    x, a = _logits(rng, spread, n), rng.normal(0, spread.gan_run, n)
    target, c = expit(x).mean(), 0.0
    for _ in range(6):
        p = expit(x + a + c)
        c -= (p.mean() - target) / (p * (1 - p)).mean()
    return float(c)


def logit_per_point(rng: np.random.Generator, spread: Spread = Spread(), n: int = 200_000) -> float:
    """Logit units per accuracy point in simulate_gains' model: 0.01 over the mean slope of the logistic at the
    simulated faces, so that a GAN-run sd can be given in accuracy points, as the report measures it."""
    x = _logits(rng, spread, n)
    return float(0.01 / (expit(x) * (1 - expit(x))).mean())
