"""What each ratio trains and tests on, the generated units, and safe files."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import make_real_faces

from synthfer.checkpoint import load_torch
from synthfer.data.splits import assert_subject_disjoint
from synthfer.data.store import FaceSet, read_face_set, write_face_set
from synthfer.experiment import parse_k, run_sets
from synthfer.generate import generate_balanced_set, unit_assignment
from synthfer.identities import GANIdentities
from synthfer.io import atomic_write_csv
from synthfer.labels import DOMAINS, EMOTIONS
from synthfer.models.identity_gan import IdentityGenerator
from synthfer.models.stargan import Generator
from synthfer.translate import PerEmotionTranslator, StarGANTranslator, load_translator
from synthfer.units import UnitSizes


def _generated(n_units: int, sizes: UnitSizes) -> FaceSet:
    tables, images = [], []
    for u in range(n_units):
        ids = unit_assignment(sizes, range(u, u + 1))
        for e in DOMAINS:
            tables.append(ids.assign(emotion=e, source="generated"))
            images.append(np.zeros((len(ids), 8, 8), np.uint8))
    return FaceSet(np.concatenate(images), pd.concat(tables, ignore_index=True))


@pytest.fixture
def real() -> FaceSet:
    return make_real_faces(n_subjects=10, size=8)


def test_generated_set_is_balanced_and_identity_disjoint():
    torch.manual_seed(0)
    sizes = UnitSizes(train=3, val=1, test=2)
    faces = generate_balanced_set(
        GANIdentities(IdentityGenerator(16, z_dim=8, width=4), seed=0),
        StarGANTranslator(Generator(4, len(DOMAINS), 1)),
        sizes,
        range(2),
    )
    assert faces.images.shape == (2 * 6 * len(DOMAINS), 16, 16)
    per_identity = faces.table.groupby("subject")["emotion"].apply(set)
    assert len(per_identity) == 12 and all(e == set(DOMAINS) for e in per_identity)
    assert_subject_disjoint(faces.table)
    units = faces.table.drop_duplicates("subject").groupby(["unit", "split"]).size().unstack()
    assert (units["train"] == 3).all() and (units["val"] == 1).all() and (units["test"] == 2).all()


def test_real_only_uses_no_generated_face(real):
    sets = run_sets(real, _generated(2, UnitSizes(6, 2, 2)), 0)
    assert (sets["train"].table["source"] == "real").all()
    assert set(sets["train"].table["emotion"]) == set(EMOTIONS)  # neutral is not a class


def test_k_units_are_added_to_every_split(real):
    generated = _generated(3, UnitSizes(6, 2, 2))
    sets = run_sets(real, generated, 2)
    train = sets["train"].table
    assert set(train.loc[train.source == "generated", "unit"]) == {0, 1}
    assert (train["source"] == "generated").sum() == 2 * 6 * 6
    ind = sets["in_distribution"].table
    assert set(ind["source"]) == {"real", "generated"} and set(ind.loc[ind.source == "generated", "unit"]) == {0, 1}
    assert (sets["real_test"].table["source"] == "real").all()
    all_sets = pd.concat([sets[s].table.assign(split=s) for s in ("train", "val", "in_distribution")])
    assert_subject_disjoint(all_sets)


def test_synthetic_only_has_no_real_face(real):
    sets = run_sets(real, _generated(2, UnitSizes(6, 2, 2)), "syn")
    assert (sets["train"].table["source"] == "generated").all()
    assert set(sets["train"].table["unit"]) == {0}
    assert (sets["real_test"].table["source"] == "real").all()


def test_real_test_is_the_same_for_every_ratio(real):
    generated = _generated(2, UnitSizes(6, 2, 2))
    a, b = run_sets(real, None, 0)["real_test"], run_sets(real, generated, 2)["real_test"]
    pd.testing.assert_frame_equal(a.table, b.table)


def test_asking_for_more_units_than_generated_is_an_error(real):
    with pytest.raises(ValueError, match="only 1 were generated"):
        run_sets(real, _generated(1, UnitSizes(6, 2, 2)), 3)
    with pytest.raises(ValueError, match="non-negative integer or 'syn'"):
        parse_k("five")


def test_face_store_round_trip(tmp_path, real):
    write_face_set(real, tmp_path / "f.npz", tmp_path / "f.csv")
    back = read_face_set(tmp_path / "f.npz", tmp_path / "f.csv")
    assert np.array_equal(back.images, real.images)
    pd.testing.assert_frame_equal(back.table, real.table)


def test_failed_write_leaves_nothing_that_looks_complete(tmp_path):
    class Boom(pd.DataFrame):
        def to_csv(self, *a, **k):
            with open(a[0], "w") as fh:
                fh.write("half,")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write_csv(Boom({"a": [1]}), tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_checkpoints_never_run_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(Exception, match="[Ww]eights only"):
        load_torch(tmp_path / "evil.pt")


def test_every_translator_is_given_the_same_identities(tmp_path):
    from synthfer.train.cyclegan import CycleGANConfig, save_cyclegan

    torch.manual_seed(0)
    identity = GANIdentities(IdentityGenerator(16, z_dim=8, width=4), seed=3)
    sizes = UnitSizes(train=2, val=1, test=1)
    stargan = generate_balanced_set(identity, StarGANTranslator(Generator(4, len(DOMAINS), 1)), sizes, range(1))
    paths = []
    for emotion in EMOTIONS:  # one CycleGAN generator per target emotion, saved and loaded as the workflow does
        cfg = CycleGANConfig(target=emotion, image_size=16, ngf=4, blocks=1)
        paths.append(tmp_path / f"{emotion}.pt")
        save_cyclegan(cfg.build_generator(), cfg, paths[-1])
    cyclegan = load_translator("cyclegan", paths, torch.device("cpu"))
    assert isinstance(cyclegan, PerEmotionTranslator) and set(cyclegan.generators) == set(EMOTIONS)
    other = generate_balanced_set(identity, cyclegan, sizes, range(1))
    neutral = (stargan.table["emotion"] == "neutral").to_numpy()
    assert np.array_equal(stargan.images[neutral], other.images[neutral])  # the same source faces
    assert not np.array_equal(stargan.images[~neutral], other.images[~neutral])  # translated differently
    assert set(other.table["translator"]) == {"cyclegan"} and set(stargan.table["translator"]) == {"stargan"}
    with pytest.raises(ValueError, match="lacks generators for"):
        load_translator("cyclegan", paths[:-1], torch.device("cpu"))
    with pytest.raises(ValueError, match="is a cyclegan model, not ecyclegan"):
        load_translator("ecyclegan", paths, torch.device("cpu"))


def test_a_step_matched_control_trains_on_real_faces_only_with_the_budget_of_k_units(real):
    from synthfer.experiment import control_sets

    generated = _generated(2, UnitSizes(6, 2, 2))
    mixed = run_sets(real, generated, 2)
    steps = run_sets(real, generated, 2, "real-steps")
    assert len(steps["train"].images) == len(
        mixed["train"].images
    )  # as many samples per epoch, so as many gradient steps
    assert set(steps["train"].table["subject"]) == set(
        real.table.loc[real.table["split"] == "train", "subject"]
    )  # no generated face
    uses = steps["train"].table.groupby(["subject", "emotion"]).size()
    assert uses.max() - uses.min() <= 1  # every real face equally often, up to the remainder
    for part in ("val", "in_distribution", "real_test"):
        assert set(steps[part].table["source"]) == {"real"}
    assert steps["in_distribution"].table.equals(steps["real_test"].table)
    with pytest.raises(ValueError, match="needs the generated units"):
        control_sets(real, None, "real-steps")


def test_an_augmented_control_adds_warped_copies_of_real_training_faces_the_same_for_every_seed(real):
    generated = _generated(1, UnitSizes(6, 2, 2))
    a = run_sets(real, generated, 1, "real-augmented")
    b = run_sets(real, generated, 1, "real-augmented")
    n_real = int(((real.table["split"] == "train") & (real.table["emotion"] != "neutral")).sum())
    added = a["train"].images[n_real:]
    assert len(a["train"].images) == len(run_sets(real, generated, 1)["train"].images) and added.dtype == np.uint8
    assert np.array_equal(added, b["train"].images[n_real:])  # fixed copies, as generated units are
    originals = a["train"].images[:n_real]
    assert not any(np.array_equal(copy, orig) for copy in added[:20] for orig in originals)  # each copy is transformed
    assert set(a["train"].table["source"].iloc[n_real:]) == {"real-augmented"}
    assert set(a["train"].table["subject"].iloc[n_real:]) <= set(
        a["train"].table["subject"].iloc[:n_real]
    )  # copies stay with their subjects' split


def test_budget_sources_spread_the_extra_samples_evenly():
    from synthfer.experiment import budget_sources

    sources = budget_sources(7, 23, np.random.default_rng(0))
    counts = np.bincount(sources, minlength=7)
    assert len(sources) == 23 and counts.min() == 3 and counts.max() == 4


def test_a_stacked_job_trains_each_gan_runs_seeds_on_that_runs_units_only():
    from synthfer.steps.classify import _by_gan_run

    units = ["g/r0/u0/faces.npz", "g/r0/u0/faces.csv", "g/r1/u0/faces.npz", "g/r1/u0/faces.csv"]
    groups = _by_gan_run([10, 11, 12], [0, 1, 0], units, [0, 0, 1, 1])
    assert groups == [(0, [0, 2], units[:2]), (1, [1], units[2:])]
    assert _by_gan_run([10, 11], [None, None], units[:2], [0, 0]) == [(None, [0, 1], units[:2])]  # a control's budget
