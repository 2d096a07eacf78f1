"""Each translator, trained briefly on demo faces, really changes the expression.

An independent classifier trained on real demo faces (other subjects) judges held-out neutral faces before
and after translation into happiness: after, it must see happiness clearly above chance and far more often
than in the untranslated faces. A short budget on one emotion, so it runs on a CPU in about a minute each.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthfer.data.demo import DemoDatabase, write_demo_database
from synthfer.data.loaders import load_records
from synthfer.data.prepare import PrepareConfig, prepare_faces
from synthfer.labels import DOMAINS, EMOTIONS, NEUTRAL
from synthfer.train.classifier import ClassifierConfig, predict_proba, train_classifier
from synthfer.train.cyclegan import CycleGANConfig, train_cyclegan
from synthfer.train.stargan import StarGANConfig, train_stargan
from synthfer.translate import PerEmotionTranslator, StarGANTranslator

TARGET = "happiness"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("translators")
    write_demo_database(DemoDatabase(seed=11, subjects=60, imaging="studio", image_size=64), root / "db", threads=2)
    images, table, _ = prepare_faces(load_records("demo", root / "db", "db"), PrepareConfig(image_size=32), threads=2)
    subjects, emotion = table["subject"].to_numpy(), table["emotion"].to_numpy()
    train = np.isin(subjects, sorted(set(subjects))[:40])  # translators and judge learn from 40 subjects
    labels = np.array([EMOTIONS.index(e) if e in EMOTIONS else -1 for e in emotion])
    fit, val = train & (labels >= 0), ~train & (labels >= 0)
    judge, _ = train_classifier(
        images[fit],
        labels[fit],
        images[val],
        labels[val],
        ClassifierConfig(image_size=32, lr=1e-3, max_epochs=30, patience=4),
        0,
        torch.device("cpu"),
    )
    return {"images": images, "emotion": emotion, "train": train, "judge": judge, "root": root}


def _translator(name: str, demo: dict):
    images, emotion, train = demo["images"], demo["emotion"], demo["train"]
    work = demo["root"] / name
    if name == "stargan":  # the two domains of the check only, to keep the budget small
        pick = train & np.isin(emotion, [NEUTRAL, TARGET])
        cfg = StarGANConfig(
            image_size=32,
            conv_dim=16,
            d_conv_dim=16,
            g_repeat=2,
            d_repeat=4,
            iterations=300,
            batch_size=16,
            g_lr=2e-4,
            d_lr=2e-4,
            lambda_cls=3.0,
            log_every=100,
            sample_every=10**6,
            checkpoint_every=0,
        )
        G, _ = train_stargan(
            images[pick], np.array([DOMAINS.index(e) for e in emotion[pick]]), cfg, torch.device("cpu"), work
        )
        return StarGANTranslator(G)
    extra = (
        {"cycle_loss": "perceptual", "vgg_weights": "random", "vgg_layers": 9, "blocks": 2, "sub_blocks": 3}
        if name == "ecyclegan"
        else {"blocks": 3}
    )
    cfg = CycleGANConfig(
        target=TARGET,
        variant=name,
        image_size=32,
        ngf=16,
        ndf=16,
        d_layers=2,
        iterations=130,
        batch_size=8,
        lambda_idt=0.1,
        log_every=50,
        sample_every=10**6,
        checkpoint_every=0,
        **extra,
    )
    G, _ = train_cyclegan(
        images[train & (emotion == NEUTRAL)], images[train & (emotion == TARGET)], cfg, torch.device("cpu"), work
    )
    return PerEmotionTranslator(name, {TARGET: G})


@pytest.mark.parametrize("name", ["stargan", "cyclegan", "ecyclegan"])
def test_a_briefly_trained_translator_changes_the_expression(name, demo):
    translator = _translator(name, demo)
    held_out = torch.from_numpy(demo["images"][~demo["train"] & (demo["emotion"] == NEUTRAL)]).unsqueeze(1)
    translated = translator.to_emotion(held_out, TARGET)
    k = EMOTIONS.index(TARGET)
    before = float((predict_proba(demo["judge"], held_out[:, 0].numpy()).argmax(1) == k).mean())
    after = float((predict_proba(demo["judge"], translated[:, 0].numpy()).argmax(1) == k).mean())
    assert after > 0.5 and after > before + 0.3, (
        f"{name}: {TARGET} seen in {after:.0%} of translated faces, {before:.0%} of the sources"
    )
