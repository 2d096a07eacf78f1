"""Metrics against small cases checked by hand."""

import numpy as np
import pandas as pd
import pytest

from synthfer.labels import EMOTIONS
from synthfer.metrics import classification_metrics, confusion_counts, metrics_table, summarize_over_seeds


def test_metrics_on_a_hand_checked_case():
    true = ["anger", "anger", "fear", "fear", "happiness", "happiness"]
    pred = ["anger", "fear", "fear", "fear", "happiness", "anger"]
    m = classification_metrics(true, pred)
    assert m["accuracy"] == pytest.approx(4 / 6)
    # anger: P = 1/2, R = 1/2; fear: P = 2/3, R = 1; happiness: P = 1, R = 1/2
    assert m["precision_anger"] == pytest.approx(0.5) and m["recall_anger"] == pytest.approx(0.5)
    assert m["precision_fear"] == pytest.approx(2 / 3) and m["recall_fear"] == pytest.approx(1.0)
    assert m["f1_happiness"] == pytest.approx(2 * 1 * 0.5 / 1.5)
    # macro-F1 over all 6 classes: absent classes count as 0
    f1s = [0.5, 0.0, 0.8, 2 / 3, 0.0, 0.0]
    assert m["macro_f1"] == pytest.approx(np.mean(f1s))
    assert m["balanced_accuracy"] == pytest.approx(np.mean([0.5, 1.0, 0.5]))


def test_confusion_rows_are_true_classes_in_canonical_order():
    cm = confusion_counts(["surprise", "anger", "anger"], ["anger", "anger", "disgust"])
    assert cm.shape == (6, 6)
    a, d, s = EMOTIONS.index("anger"), EMOTIONS.index("disgust"), EMOTIONS.index("surprise")
    assert cm[a, a] == 1 and cm[a, d] == 1 and cm[s, a] == 1 and cm.sum() == 3


def test_metrics_table_groups():
    preds = pd.DataFrame(
        {
            "k": ["0", "0", "1"],
            "seed": [0, 0, 0],
            "true": ["anger", "fear", "anger"],
            "pred": ["anger", "anger", "anger"],
        }
    )
    table = metrics_table(preds, ["k", "seed"])
    assert list(table["accuracy"]) == [0.5, 1.0]
    assert list(table["n"]) == [2, 1]


def test_summary_over_seeds_uses_a_t_interval():
    from scipy import stats

    m = pd.DataFrame({"k": ["0"] * 3 + ["1"], "accuracy": [0.5, 0.6, 0.7, 0.9]})
    s = summarize_over_seeds(m, ["k"], ["accuracy"]).set_index("k")
    assert s.loc["0", "accuracy_mean"] == pytest.approx(0.6)
    assert s.loc["0", "accuracy_sd"] == pytest.approx(0.1)
    assert s.loc["0", "accuracy_ci95"] == pytest.approx(stats.t.ppf(0.975, 2) * 0.1 / np.sqrt(3))
    assert np.isnan(s.loc["1", "accuracy_ci95"])  # one seed: no interval, not a fake zero
    assert s.loc["1", "accuracy_n_seeds"] == 1


def _preds(k: str, seed: int, correct: list[bool], test_set: str = "cross") -> pd.DataFrame:
    true = ["anger", "happiness"] * (len(correct) // 2)
    pred = [t if ok else ("sadness" if t != "sadness" else "fear") for t, ok in zip(true, correct)]
    return pd.DataFrame({"test_set": test_set, "k": k, "seed": seed, "true": true, "pred": pred})


def test_identical_predictions_give_no_gain_and_p_one():
    from synthfer.metrics import paired_gain

    rng = np.random.default_rng(0)
    parts = []
    for s in range(3):
        correct = list(rng.random(40) < 0.6)
        parts += [_preds("0", s, correct), _preds("2", s, correct)]
    g = paired_gain(pd.concat(parts), "cross", "2")
    assert g["gain"] == 0 and g["ci_low"] == 0 and g["ci_high"] == 0 and g["p_value"] == 1.0


def test_a_clear_gain_is_found_with_its_interval():
    from synthfer.metrics import paired_gain, paired_gains

    parts = []
    for s in range(3):
        parts += [_preds("0", s, [True, False] * 30), _preds("1", s, [True] * 60)]  # k=1 fixes every second face
    predictions = pd.concat(parts)
    g = paired_gain(predictions, "cross", "1")
    assert g["gain"] == pytest.approx(0.5) and 0.35 < g["ci_low"] < 0.5 < g["ci_high"] < 0.65 and g["p_value"] < 0.01
    table = paired_gains(
        pd.concat(
            [predictions, _preds("0", 0, [True] * 4, "in_distribution"), _preds("1", 0, [True] * 4, "in_distribution")]
        )
    )
    assert list(table["test_set"]) == ["cross"] and list(table["k"]) == [
        "1"
    ]  # in_distribution faces change with k: no pairing


def test_faces_of_one_test_subject_count_as_one_unit():
    """The same per-face gains, once as 60 subjects of one face and once as 6 subjects of 10 faces whose gains go
    together: the second has fewer independent units, so a wider interval and a larger p."""
    from synthfer.metrics import paired_gain

    rng = np.random.default_rng(1)
    helped = np.repeat(rng.random(6) < 0.5, 10)  # k fixes every face of about half the subjects
    parts = []
    for s in range(3):
        base = list(rng.random(60) < 0.5)
        parts += [_preds("0", s, base), _preds("1", s, [b or h for b, h in zip(base, helped)])]
    predictions = pd.concat(parts)
    apart = paired_gain(predictions.assign(subject=[f"f{i}" for i in range(60)] * 6), "cross", "1")
    grouped = paired_gain(predictions.assign(subject=[f"s{i // 10}" for i in range(60)] * 6), "cross", "1")
    assert apart["gain"] == grouped["gain"] and grouped["n_subjects"] == 6 and apart["n_subjects"] == 60
    assert (
        grouped["ci_high"] - grouped["ci_low"] > 1.5 * (apart["ci_high"] - apart["ci_low"])
        and grouped["p_value"] > apart["p_value"]
    )
    assert grouped["var_subject"] > 0 and grouped["mde"] > apart["mde"]


def test_unpaired_faces_are_refused():
    from synthfer.metrics import paired_gain

    predictions = pd.concat([_preds("0", 0, [True] * 4), _preds("1", 0, [True] * 6)])
    with pytest.raises(ValueError, match="not tested on the same faces"):
        paired_gain(predictions, "cross", "1")


def test_frechet_distance_is_zero_for_the_same_set_and_grows_with_a_shift():
    from synthfer.quality import frechet_distance

    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 5))
    assert frechet_distance(a, a) == (pytest.approx(0, abs=1e-6), 0.0)
    assert frechet_distance(a, a + 2.0) == (
        pytest.approx(5 * 4.0, rel=1e-6),
        0.0,
    )  # only the means differ: |2|^2 x 5 dims


def test_frechet_distance_with_fewer_faces_than_features_shrinks_the_covariances_and_does_not_warn():
    import warnings

    from synthfer.quality import frechet_distance

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(60, 200)), rng.normal(size=(60, 200))  # rank 59 < 200: a singular sample covariance
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's LinAlgWarning "Matrix is singular" would fail here
        same, shrink = frechet_distance(a, b)
        shifted, _ = frechet_distance(a, b + 1.0)
    assert 0 < shrink < 1 and np.isfinite(same) and shifted > same + 150  # |1|^2 x 200 dims on top


def test_identity_preservation_and_diversity_on_hand_made_features():
    from synthfer.quality import diversity, identity_preservation

    # two identities far apart; each translated face stays next to its own neutral face
    table = pd.DataFrame(
        {"subject": ["a", "a", "a", "b", "b", "b"], "emotion": ["neutral", "anger", "fear", "neutral", "anger", "fear"]}
    )
    features = np.array([[0, 0], [1, 0], [0, 1], [10, 0], [11, 0], [10, 1]], dtype=float)
    kept = identity_preservation(features, table)
    assert kept["same_identity_distance"] == pytest.approx(1.0) and kept["identity_ratio"] < 0.2
    swapped = identity_preservation(features[[0, 4, 5, 3, 1, 2]], table)  # translations land on the other identity
    assert swapped["identity_ratio"] > 5
    div = diversity(features, table["emotion"].to_numpy())
    assert div["anger"] == pytest.approx(10.0) and "neutral" not in div


def test_one_vs_rest_auc_against_a_hand_computed_case():
    from synthfer.metrics import metrics_table, one_vs_rest_auc

    true = np.array(["anger", "anger", "happiness", "happiness"])
    proba = np.zeros((4, len(EMOTIONS)))
    proba[:, 0] = [0.9, 0.4, 0.6, 0.1]  # anger scores: one of the four (anger, happiness) pairs is misordered
    proba[:, 3] = [0.1, 0.2, 0.8, 0.9]  # happiness scores: perfectly separated
    auc = one_vs_rest_auc(true, proba)
    assert auc["auc_anger"] == pytest.approx(0.75) and auc["auc_happiness"] == pytest.approx(1.0)
    assert np.isnan(auc["auc_fear"]) and auc["macro_auc_ovr"] == pytest.approx(0.875)
    table = pd.DataFrame(
        {
            "g": 1,
            "true": true,
            "pred": ["anger", "happiness", "happiness", "happiness"],
            **{f"p_{e}": proba[:, i] for i, e in enumerate(EMOTIONS)},
        }
    )
    assert metrics_table(table, ["g"]).loc[0, "macro_auc_ovr"] == pytest.approx(0.875)


def test_kid_is_near_zero_for_two_draws_of_one_distribution_and_grows_with_a_shift():
    from synthfer.quality import kernel_inception_distance

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 16)), rng.normal(size=(300, 16))  # other sizes: KID is unbiased
    same, same_sd = kernel_inception_distance(a, b, subsets=20, size=200)
    shifted, _ = kernel_inception_distance(a, b + 0.5, subsets=20, size=200)
    assert abs(same) < 3 * same_sd + 1e-3 and shifted > 10 * max(abs(same), same_sd)
    # the unbiased estimate, recomputed by hand on one subset pair
    x, y = a[:50], b[:50]
    k = lambda p, q: (p @ q.T / 16 + 1) ** 3  # noqa: E731
    hand = (k(x, x).sum() - np.trace(k(x, x)) + k(y, y).sum() - np.trace(k(y, y))) / (50 * 49) - 2 * k(x, y).mean()
    one, _ = kernel_inception_distance(x, y, subsets=1, size=50)
    assert one == pytest.approx(hand)


def test_precision_recall_density_coverage_tell_a_collapsed_generator_from_a_faithful_one():
    from synthfer.quality import precision_recall_density_coverage

    rng = np.random.default_rng(0)
    real = rng.normal(size=(300, 8))
    faithful = precision_recall_density_coverage(real, rng.normal(size=(300, 8)))
    collapsed = precision_recall_density_coverage(real, rng.normal(scale=0.1, size=(300, 8)))  # one mode
    assert faithful["precision"] > 0.8 and faithful["recall"] > 0.8 and faithful["coverage"] > 0.8
    assert collapsed["precision"] > 0.9 and collapsed["recall"] < 0.3 and collapsed["coverage"] < 0.3
    assert set(precision_recall_density_coverage(real[:3], real[:3])) == {"precision", "recall", "density", "coverage"}


def test_a_paired_gain_over_two_gan_runs_tests_on_the_runs_means():
    """Seeds on two GAN runs that differ far more than the seeds do: the test is the one on the runs' means
    (synthfer.inference.gan_run_test), with its few degrees of freedom; without the gan_run column, the seed test."""
    import numpy as np
    import pandas as pd

    from synthfer.inference import gan_run_test, subject_cells
    from synthfer.metrics import paired_gain

    rng = np.random.default_rng(0)
    faces, subjects = 60, np.repeat(np.arange(6), 10)
    rows = []
    for seed in range(6):
        run = seed % 2
        truth = rng.integers(0, 6, faces)
        for k, right in (("0", rng.random(faces) < 0.6), ("1", rng.random(faces) < (0.75 if run else 0.45))):
            rows.append(
                pd.DataFrame(
                    {
                        "k": k,
                        "seed": seed,
                        "test_set": "t",
                        "subject": subjects,
                        "true": truth,
                        "pred": np.where(right, truth, (truth + 1) % 6),
                        "gan_run": run if k == "1" else np.nan,
                    }
                )
            )
    predictions = pd.concat(rows, ignore_index=True)
    row = paired_gain(predictions, "t", "1")
    diffs = np.stack(
        [
            (
                predictions.query("k == '1' and seed == @s")["pred"]
                == predictions.query("k == '1' and seed == @s")["true"]
            ).to_numpy(float)
            - (
                predictions.query("k == '0' and seed == @s")["pred"]
                == predictions.query("k == '0' and seed == @s")["true"]
            ).to_numpy(float)
            for s in range(6)
        ]
    )
    expected = gan_run_test(subject_cells(diffs, subjects), [s % 2 for s in range(6)])
    assert row["n_gan_runs"] == 2 and row["var_gan_run"] > 0
    assert np.isclose(row["df"], float(expected["df"])) and np.isclose(row["ci_low"], float(expected["ci_low"]))
    alone = paired_gain(predictions.drop(columns="gan_run"), "t", "1")
    assert alone["n_gan_runs"] == 0 and alone["df"] > row["df"]
