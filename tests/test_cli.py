"""The `synthfer` command: predict on real photos, export a face store, import an original StarGAN checkpoint."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from helpers.original_stargan import OriginalGenerator, trained_looking
from photos import photo, tight_crop
from PIL import Image

from synthfer.cli import main
from synthfer.data.prepare import PrepareConfig, prepare_faces
from synthfer.labels import DOMAINS, EMOTIONS
from synthfer.tensors import from_signed, to_signed
from synthfer.train.classifier import ClassifierConfig, predict_proba, save_classifier

ROOT = Path(__file__).resolve().parents[1]
PREPARE = PrepareConfig(image_size=32, eye_distance=0.4, eye_height=0.36)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    cfg = ClassifierConfig(image_size=32)
    path = tmp_path_factory.mktemp("model") / "model.pt"
    save_classifier(
        cfg.build().eval(),
        cfg,
        path,
        {
            "image_size": 32,
            "eye_distance": 0.4,
            "eye_height": 0.36,
            "max_rejected_fraction": 0.2,
            "min_detection_confidence": 0.5,
        },
    )
    return path


def test_the_command_and_each_subcommand_have_help():
    for args in ([], ["predict"], ["export"], ["import-stargan"]):
        run = subprocess.run(
            [sys.executable, "-m", "synthfer.cli", *args, "--help"], capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0 and "usage: synthfer" in run.stdout, run.stderr
    assert (ROOT / "pyproject.toml").read_text().count('synthfer = "synthfer.cli:main"') == 1


def test_predict_classifies_real_photos_as_training_prepared_them_and_gives_reasons(model_file, tmp_path):
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    photo("astronaut").save(photos / "astronaut.png")
    tight_crop("hopper", 0.9)[0].save(photos / "sub" / "hopper_crop.jpg")
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (120, 120, 3), dtype=np.uint8)).save(photos / "noise.png")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (photos / "notes.txt").write_text("not a photo")
    (photos / ".DS_Store").write_bytes(b"\0")
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(model_file), str(photos), str(tmp_path / "missing.png"), "--out", str(out)]) == 0
    table = pd.read_csv(out, keep_default_na=False)
    by_name = {Path(p).name: row for p, row in zip(table["path"], table.to_dict("records"))}
    assert set(by_name) == {
        "astronaut.png",
        "hopper_crop.jpg",
        "noise.png",
        "broken.jpg",
        "notes.txt",
        "missing.png",
    }  # no .DS_Store
    assert by_name["noise.png"]["reason"] == "no face detected"
    assert by_name["broken.jpg"]["reason"].startswith("unreadable")
    assert by_name["notes.txt"]["reason"].startswith("not an image file (.txt")
    assert by_name["missing.png"]["reason"] == "not found"
    # the two faces: classified from exactly the face the workflow's own preparation makes of the file
    model = torch.load(model_file, weights_only=True)
    cfg = ClassifierConfig(**model["config"])
    net = cfg.build()
    net.load_state_dict(model["model"])
    for name in ("astronaut.png", "hopper_crop.jpg"):
        row = by_name[name]
        assert row["reason"] == "" and row["pred"] in EMOTIONS
        path = next(p for p in photos.rglob(name))
        records = pd.DataFrame(
            [{"path": str(path), "frame": 0, "subject": "x", "emotion": "anger", "source": "x", "intensity": 1.0}]
        )
        faces, _, _ = prepare_faces(records, PREPARE)
        expected = predict_proba(net.eval(), faces)[0]
        assert np.allclose([float(row[f"p_{e}"]) for e in EMOTIONS], expected, atol=1e-6)
        assert EMOTIONS[int(expected.argmax())] == row["pred"]


def test_predict_refuses_a_model_file_without_its_preprocessing(tmp_path, capsys):
    cfg = ClassifierConfig(image_size=32)
    old = tmp_path / "old.pt"
    torch.save({"config": cfg.__dict__, "model": cfg.build().state_dict()}, old)  # what older versions wrote
    photo("astronaut").save(tmp_path / "a.png")
    assert main(["predict", str(old), str(tmp_path / "a.png")]) == 2
    assert "carries no preprocessing" in capsys.readouterr().err


def test_export_writes_an_imagefolder_tree_and_a_table_and_never_overwrites(tmp_path, capsys):
    from conftest import make_real_faces

    from synthfer.data.store import write_face_set

    faces = make_real_faces(n_subjects=5, size=16)
    store = tmp_path / "store"
    write_face_set(faces, store / "faces.npz", store / "faces.csv")
    out = tmp_path / "exported"
    assert main(["export", str(store), str(out)]) == 0
    assert f"{out}/train/<emotion>/" in capsys.readouterr().err
    table = pd.read_csv(out / "faces.csv", keep_default_na=False)
    # one tree per split: a tree trained on holds no identity of another split
    assert sorted(p.name for p in out.iterdir()) == sorted([*set(table["split"]), "faces.csv"])
    for split in set(table["split"]):
        assert sorted(p.name for p in (out / split).iterdir()) == sorted(
            set(table.loc[table.split == split, "emotion"])
        )
    assert all(file.startswith(f"{split}/") for file, split in zip(table["file"], table["split"], strict=True))
    assert {"file", "emotion", "identity", "split", "source", "store", "store_row"} <= set(table.columns)
    for row in table.sample(5, random_state=0).itertuples():
        assert row.file.startswith(f"{row.split}/{row.emotion}/")
        assert np.array_equal(np.asarray(Image.open(out / row.file)), faces.images[row.store_row])
        assert (
            row.identity == faces.table["subject"][row.store_row] and row.split == faces.table["split"][row.store_row]
        )
    # torchvision reads it as any ImageFolder
    from torchvision.datasets import ImageFolder

    assert sum(len(ImageFolder(str(out / split))) for split in set(table["split"])) == len(faces.images)
    train_identities = set(table.loc[table.split == "train", "identity"])
    assert not train_identities & set(table.loc[table.split != "train", "identity"])
    # a second export into the same folder is refused and loses nothing
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert main(["export", str(store), str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert not list(tmp_path.glob(".exported.exporting-*"))


def test_an_original_stargan_checkpoint_translates_as_the_original_code_would(tmp_path):
    torch.manual_seed(1)
    original = trained_looking(OriginalGenerator(conv_dim=8, c_dim=7, repeat_num=2))
    checkpoint = tmp_path / "200000-G.ckpt"
    torch.save(original.state_dict(), checkpoint)  # what the original solver writes
    out = tmp_path / "imported.pt"
    assert main(["import-stargan", str(checkpoint), "--out", str(out), "--image-size", "32"]) == 0

    from synthfer.translate import load_translator

    translator = load_translator("stargan", [out], torch.device("cpu"))
    faces = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (4, 1, 32, 32), dtype=np.uint8))
    order = sorted(DOMAINS)  # the original's labels: its folders in ImageFolder's (sorted) order
    original.train()  # the original generates in training mode: each image's own instance statistics
    for emotion in EMOTIONS:
        c = torch.zeros(len(faces), 7)
        c[:, order.index(emotion)] = 1
        with torch.no_grad():
            rgb = original(to_signed(faces).expand(-1, 3, -1, -1), c)
        grey = (rgb * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        ours = translator.to_emotion(faces, emotion)
        assert (ours.int() - from_signed(grey).int()).abs().max() <= 1, emotion  # the same faces, to rounding
    assert not torch.equal(translator.to_emotion(faces, "happiness"), translator.to_emotion(faces, "anger"))


def test_import_stargan_reads_the_domain_order_and_refuses_what_it_cannot_use(tmp_path, capsys):
    original = OriginalGenerator(conv_dim=4, c_dim=7, repeat_num=1)
    checkpoint = tmp_path / "G.ckpt"
    torch.save(original.state_dict(), checkpoint)
    assert (
        main(
            [
                "import-stargan",
                str(checkpoint),
                "--out",
                str(tmp_path / "a.pt"),
                "--domains",
                "angry,disgust,fear,happy,neutral,sad",
            ]
        )
        == 2
    )
    assert "7 domains, but 6 names" in capsys.readouterr().err
    assert (
        main(
            [
                "import-stargan",
                str(checkpoint),
                "--out",
                str(tmp_path / "a.pt"),
                "--domains",
                "angry,disgust,fear,happy,neutral,sad,contempt",
            ]
        )
        == 2
    )
    assert "contempt not an emotion" in capsys.readouterr().err
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "d.ckpt")  # e.g. the discriminator's file
    assert main(["import-stargan", str(tmp_path / "d.ckpt"), "--out", str(tmp_path / "b.pt")]) == 2
    assert "not a StarGAN generator state dict" in capsys.readouterr().err
    assert not (tmp_path / "a.pt").exists() and not (tmp_path / "b.pt").exists()


class _RunsCode:
    def __reduce__(self):
        return (Path.touch, (Path(__file__).parent / "never_created",))


def test_import_stargan_never_runs_code_from_a_checkpoint(tmp_path, capsys):
    marker = Path(__file__).parent / "never_created"
    evil = tmp_path / "evil-G.ckpt"
    with open(evil, "wb") as fh:
        pickle.dump({"main.0.weight": _RunsCode()}, fh)
    assert main(["import-stargan", str(evil), "--out", str(tmp_path / "x.pt")]) == 2
    assert not marker.exists()
    assert "refused: it holds more than tensors" in capsys.readouterr().err


def test_an_imported_stargan_replaces_training_in_the_workflow(tmp_path):
    torch.save(OriginalGenerator(conv_dim=4, c_dim=7, repeat_num=1).state_dict(), tmp_path / "G.ckpt")
    assert (
        main(["import-stargan", str(tmp_path / "G.ckpt"), "--out", str(tmp_path / "stargan.pt"), "--image-size", "16"])
        == 0
    )
    config = yaml.safe_load((ROOT / "tests" / "data" / "tiny_config.yaml").read_text())
    config["stargan_model"] = str(tmp_path / "stargan.pt")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "workflow" / "Snakefile"),
        "--directory",
        str(tmp_path / "run"),
        "--configfile",
        str(path),
        "--dry-run",
        "--quiet",
        "rules",
    ]
    dry = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "generate_faces" in dry.stdout and "train_stargan" not in dry.stdout
    config["stargan_model"] = str(tmp_path / "absent.pt")
    path.write_text(yaml.safe_dump(config))
    dry = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert (
        dry.returncode != 0
        and "stargan_model: " in dry.stdout + dry.stderr
        and "synthfer import-stargan" in dry.stdout + dry.stderr
    )


def test_predict_refuses_a_pickled_model_in_one_line_and_runs_nothing(tmp_path, capsys):
    marker = Path(__file__).parent / "never_created"
    evil = tmp_path / "model.pt"
    torch.save({"config": {}, "model": _RunsCode()}, evil)  # a torch file whose pickle would run code
    photo("astronaut").save(tmp_path / "a.png")
    assert main(["predict", str(evil), str(tmp_path / "a.png")]) == 2
    err = capsys.readouterr().err
    assert not marker.exists()
    assert err.count("\n") == 1 and f"{evil}: refused: it holds more than tensors" in err and "Traceback" not in err


def test_a_truncated_checkpoint_is_named_with_what_is_wrong(tmp_path, capsys):
    whole = tmp_path / "G.ckpt"
    torch.save(OriginalGenerator(conv_dim=4, c_dim=7, repeat_num=1).state_dict(), whole)
    cut = tmp_path / "G-cut.ckpt"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert main(["import-stargan", str(cut), "--out", str(tmp_path / "x.pt")]) == 2
    err = capsys.readouterr().err
    assert f"{cut}: not a readable PyTorch file: truncated, damaged or of another format" in err
    assert not (tmp_path / "x.pt").exists()


def test_predict_checks_its_output_path_before_any_work(tmp_path, capsys, monkeypatch):
    import synthfer.predict

    monkeypatch.setattr(synthfer.predict, "predict_images", lambda *a, **k: pytest.fail("classified first"))
    (tmp_path / "a_file").write_text("")
    assert main(["predict", "model.pt", "a.png", "--out", str(tmp_path / "a_file" / "out.csv")]) == 2
    assert f"{tmp_path / 'a_file'} is a file, so no folder" in capsys.readouterr().err
    assert main(["predict", "model.pt", "a.png", "--out", str(tmp_path)]) == 2
    assert "is a folder; give a file name" in capsys.readouterr().err


def test_export_mixes_the_splits_in_one_tree_only_when_asked(tmp_path, capsys):
    from conftest import make_real_faces

    from synthfer.data.store import write_face_set

    faces = make_real_faces(n_subjects=5, size=16)
    write_face_set(faces, tmp_path / "store" / "faces.npz", tmp_path / "store" / "faces.csv")
    assert main(["export", str(tmp_path / "store"), str(tmp_path / "one"), "--one-tree"]) == 0
    assert "train, val and test identities together" in capsys.readouterr().err
    table = pd.read_csv(tmp_path / "one" / "faces.csv", keep_default_na=False)
    assert all(file.startswith(f"{emotion}/") for file, emotion in zip(table["file"], table["emotion"], strict=True))


def test_an_eight_domain_rafd_checkpoint_imports_with_contempt_dropped(tmp_path, capsys):
    """The original StarGAN README trains RaFD with --c_dim 8: its folders angry, contemptuous, disgusted, fearful,
    happy, neutral, sad, surprised. Dropping contempt, every other domain translates as the original does."""
    torch.manual_seed(2)
    original = trained_looking(OriginalGenerator(conv_dim=8, c_dim=8, repeat_num=2))
    checkpoint = tmp_path / "200000-G.ckpt"
    torch.save(original.state_dict(), checkpoint)
    folders = "angry,contemptuous,disgusted,fearful,happy,neutral,sad,surprised"
    args = ["import-stargan", str(checkpoint), "--out", str(tmp_path / "x.pt"), "--domains", folders]
    assert main(args) == 2  # an eighth domain without --drop: refused, saying how to drop it
    err = capsys.readouterr().err
    assert "contemptuous not an emotion; use" in err and "with --drop contemptuous" in err
    out = tmp_path / "imported.pt"
    assert main([*args[:3], str(out), "--domains", folders, "--image-size", "32", "--drop", "contemptuous"]) == 0
    assert "dropped: contemptuous" in capsys.readouterr().err

    from synthfer.translate import load_translator

    translator = load_translator("stargan", [out], torch.device("cpu"))
    faces = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (4, 1, 32, 32), dtype=np.uint8))
    order = folders.split(",")
    ours_of = dict(
        zip(
            ["anger", "contemptuous", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"],
            order,
            strict=True,
        )
    )
    original.train()
    for emotion in EMOTIONS:
        c = torch.zeros(len(faces), 8)
        c[:, order.index(ours_of[emotion])] = 1
        with torch.no_grad():
            rgb = original(to_signed(faces).expand(-1, 3, -1, -1), c)
        grey = (rgb * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        assert (translator.to_emotion(faces, emotion).int() - from_signed(grey).int()).abs().max() <= 1, emotion
    assert main([*args, "--drop", "contemptuous,pride"]) == 2
    assert "--drop pride: not among the checkpoint's --domains" in capsys.readouterr().err
    assert main([*args[:4], "--drop", "contemptuous"]) == 2  # which folder it was cannot be guessed
    assert "--drop contemptuous needs --domains" in capsys.readouterr().err


def test_predict_warns_about_photos_far_from_the_models_training_faces(tmp_path, capsys):
    """A model trained on bar faces: new bar faces are familiar, a real photo is not, and predict says so (the
    column and one warning line) instead of answering with confident nonsense alone."""
    from helpers.bar_faces import bar_faces

    from synthfer.train.classifier import familiarity, train_classifier

    x, y = bar_faces(n=240, size=32, seed=0)
    vx, vy = bar_faces(n=60, size=32, seed=1)
    cfg = ClassifierConfig(image_size=32, max_epochs=4, patience=4, lr=1e-3, precision="fp32")
    model, _ = train_classifier(x, y, vx, vy, cfg, 0, torch.device("cpu"))
    familiar = familiarity(model, x, vx)
    path = tmp_path / "model.pt"
    save_classifier(model, cfg, path, {"image_size": 32, "eye_distance": 0.4, "eye_height": 0.36}, familiar)
    new_bars, _ = bar_faces(n=6, size=32, seed=7)
    for i, face in enumerate(new_bars):
        Image.fromarray(face).save(tmp_path / f"bar{i}.png")
    photo("astronaut").save(tmp_path / "astronaut.png")
    files = [str(tmp_path / f"bar{i}.png") for i in range(6)] + [str(tmp_path / "astronaut.png")]
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(path), *files, "--aligned", "--out", str(out)]) == 0
    table = pd.read_csv(out).set_index(pd.read_csv(out)["path"].map(lambda p: Path(p).name))
    assert table.loc["astronaut.png", "far_from_training"]
    assert not table.loc[[f"bar{i}.png" for i in range(6)], "far_from_training"].any()
    assert table.loc["astronaut.png", "training_distance"] > 10 * familiar["threshold"]
    assert "warning: 1 of 7 classified photos are far from the model's training faces" in capsys.readouterr().err


def test_the_detectors_native_notices_stay_out_of_the_terminal_and_its_errors_do_not(model_file, tmp_path):
    photo("astronaut").save(tmp_path / "a.png")
    run = subprocess.run(
        [sys.executable, "-m", "synthfer.cli", "predict", str(model_file), str(tmp_path / "a.png")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "TensorFlow Lite" not in run.stderr and "W0000" not in run.stderr and "absl" not in run.stderr
    assert "1 of 1 files classified" in run.stderr
    code = (
        "import os\nfrom synthfer.predict import native_noise_filtered\nwith native_noise_filtered():\n"
        "    os.write(2, b'INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n')\n"
        "    os.write(2, b'W0000 00:00:1796412298.639881   29508 inference_feedback_manager.cc:114] Feedback\\n')\n"
        "    os.write(2, b'E0000 00:00:1796412298.639881   29508 gl_context.cc:9] a real error\\n')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stderr.splitlines() == ["E0000 00:00:1796412298.639881   29508 gl_context.cc:9] a real error"]
