"""The paired test keeps its level at the seed counts the configs run (3, 5, 10), and finds real gains.

Data are drawn as a study makes them: per face, whether each arm's classifier is right, from a logistic model
with a face difficulty shared by both arms (the pairing), and per arm a training-run (seed) effect, a test-subject
effect and a seed x subject effect. Under the null both arms draw these from the same distribution; new test
subjects every replicate, so the test subjects are a random sample as in the question asked. The components are
the demo's scale: about 7 accuracy points between training runs, 16 test subjects of 12 faces.
"""

from __future__ import annotations

import numpy as np
import pytest

from synthfer.inference import (
    Components,
    benjamini_hochberg,
    crossed_test,
    detectable_effect,
    holm,
    seeds_needed,
    simulate_gains,
    subject_cells,
    variance_components,
    verdict,
)

DEMO = {"sd_seed": 0.5, "sd_subject": 0.3, "sd_seed_subject": 0.3}  # logit scale; per-run accuracy sd ~ 7 points
SUBJECTS, FACES = 16, 12


def simulate(rng: np.random.Generator, reps: int, seeds: int, effect: float = 0.0, **components: float) -> np.ndarray:
    return simulate_gains(rng, reps, seeds, SUBJECTS, FACES, effect, **components)


def _cells(diffs: np.ndarray) -> np.ndarray:
    reps, seeds, _ = diffs.shape
    return diffs.reshape(reps, seeds, SUBJECTS, FACES).mean(-1)


@pytest.mark.parametrize("seeds", [3, 5, 10])
def test_the_false_positive_rate_is_within_its_nominal_level(seeds):
    rng = np.random.default_rng(seeds)
    reps = 6000  # binomial se of the rate ~0.28 points: 3.5-6.5% is about 5 se either side of 5%
    result = crossed_test(_cells(simulate(rng, reps, seeds, **DEMO)))
    rate = float(np.mean(result["p_value"] < 0.05))
    assert 0.035 <= rate <= 0.065, f"{seeds} seeds: {rate:.2%} of true nulls rejected at 5%"
    covered = np.mean((result["ci_low"] <= 0) & (0 <= result["ci_high"]))
    assert abs(covered - (1 - rate)) < 1e-9  # the interval and the test agree


def test_a_face_level_bootstrap_would_not_hold_the_level():
    """What the old test did (seeds, then faces, resampled i.i.d.) rejects true nulls far more often: the
    simulation is sensitive to what it is meant to catch."""
    rng = np.random.default_rng(0)
    diffs = simulate(rng, 400, 3, **DEMO)
    rejected = 0
    for d in diffs:
        seed_idx = rng.integers(0, 3, (500, 3))
        face_idx = rng.integers(0, d.shape[1], (500, d.shape[1]))
        boot = d[seed_idx[:, :, None], face_idx[:, None, :]].mean(axis=(1, 2))
        rejected += min(1.0, 2 * min((boot <= 0).mean(), (boot >= 0).mean())) < 0.05
    assert rejected / len(diffs) > 0.075


def test_a_real_gain_is_found_and_its_size_recovered():
    rng = np.random.default_rng(1)
    diffs = simulate(rng, 1000, 10, effect=1.0, **DEMO)
    result = crossed_test(_cells(diffs))
    true_gain = float(diffs.mean())  # the effect on the accuracy scale, over all replicates
    assert np.mean(result["p_value"] < 0.05) > 0.8
    assert np.mean((result["ci_low"] <= true_gain) & (true_gain <= result["ci_high"])) > 0.9


def test_the_detectable_effect_is_found_with_the_stated_power():
    """Plan with the components of one pilot study, then check by simulation that a gain of the stated MDE is
    detected about 80% of the time (normal data with exactly those components)."""
    truth = Components(np.array(0.004), np.array(0.002), np.array(0.02))
    seeds, subjects = 5, SUBJECTS
    mde = float(detectable_effect(truth, seeds, subjects))
    rng = np.random.default_rng(2)
    reps = 4000
    cells = (
        mde
        + rng.normal(0, np.sqrt(truth.seed), (reps, seeds, 1))
        + rng.normal(0, np.sqrt(truth.subject), (reps, 1, subjects))
        + rng.normal(0, np.sqrt(truth.residual), (reps, seeds, subjects))
    )
    power = float(np.mean(crossed_test(cells)["p_value"] < 0.05))
    assert 0.72 <= power <= 0.88, power
    assert detectable_effect(truth, 20, subjects) < mde  # more seeds, smaller detectable effect
    needed = seeds_needed(truth, subjects, target=mde / 2)
    assert needed > seeds and float(detectable_effect(truth, int(needed), subjects)) <= mde / 2 < float(
        detectable_effect(truth, int(needed) - 1, subjects)
    )
    assert seeds_needed(Components(np.array(0.0), np.array(0.05), np.array(0.0)), subjects, target=0.01) == float(
        "inf"
    )  # subjects limit it


def test_cells_weight_subjects_by_their_faces():
    diffs = np.array([[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, 0.0]])
    subjects = np.array(["a", "a", "a", "b"])
    cells = subject_cells(diffs, subjects)
    assert cells.shape == (2, 2) and np.isclose(cells.mean(), diffs.mean())
    result = crossed_test(cells[None])
    assert np.isclose(result["gain"][0], diffs.mean())


def test_identical_predictions_give_no_gain_and_p_one():
    result = crossed_test(np.zeros((1, 3, 5)))
    assert result["gain"][0] == 0 and result["p_value"][0] == 1 and result["ci_low"][0] == result["ci_high"][0] == 0


def test_a_gain_without_any_spread_gets_no_test():
    result = crossed_test(np.full((1, 2, 4), 0.08))  # every seed and subject the same: classifiers stuck on one class
    assert result["gain"][0] == 0.08 and np.isnan(result["p_value"][0]) and np.isnan(result["ci_low"][0])


def test_one_seed_gives_no_p_value():
    result = crossed_test(np.ones((1, 1, 4)) * 0.1)
    assert np.isnan(result["p_value"][0]) and np.isnan(result["ci_low"][0])


def test_holm_matches_the_step_down_rule_and_bh_is_scipys():
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.005])
    adjusted = holm(p)
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, then running maximum
    assert np.allclose(adjusted[[4, 0, 2, 1]], [0.02, 0.03, 0.06, 0.06]) and np.isnan(adjusted[3])
    q = benjamini_hochberg(p)
    assert np.allclose(q[[4, 0, 2, 1]], [0.02, 0.02, 0.04, 0.04]) and np.isnan(q[3])


@pytest.mark.parametrize(
    "gain, low, high, p, expected",
    [
        (0.08, 0.03, 0.13, 0.01, "gain"),
        (-0.08, -0.13, -0.03, 0.01, "loss"),
        (0.06, 0.01, 0.11, 0.20, "inconclusive"),  # significant alone, not after its family's correction
        (0.01, -0.03, 0.04, 0.60, "no difference of the target size"),
        (0.02, -0.10, 0.14, 0.70, "inconclusive"),
        (0.0, np.nan, np.nan, np.nan, "inconclusive"),
    ],
)
def test_verdicts(gain, low, high, p, expected):
    assert verdict(gain, low, high, p, target=0.05) == expected


def test_components_are_recovered_from_many_seeds_and_subjects():
    rng = np.random.default_rng(3)
    cells = (
        rng.normal(0, 0.1, (200, 1, 1)) * 0
        + rng.normal(0, np.sqrt(0.004), (200, 30, 1))
        + rng.normal(0, np.sqrt(0.002), (200, 1, 40))
        + rng.normal(0, np.sqrt(0.01), (200, 30, 40))
    )
    c = variance_components(cells)
    assert (
        np.isclose(c.seed.mean(), 0.004, rtol=0.1)
        and np.isclose(c.subject.mean(), 0.002, rtol=0.15)
        and np.isclose(c.residual.mean(), 0.01, rtol=0.05)
    )
