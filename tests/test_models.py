"""Networks and training loops: shapes, the paper's sizes, and that a few steps of training help."""

import contextlib
import functools
from dataclasses import replace

import numpy as np
import pytest
import torch
from helpers.bar_faces import bar_faces

from synthfer.labels import DOMAINS, EMOTIONS
from synthfer.models.classifier import PaperCNN
from synthfer.models.identity_gan import IdentityDiscriminator, IdentityGenerator
from synthfer.models.stargan import Discriminator, Generator
from synthfer.train.classifier import ClassifierConfig, EarlyStopping, adam, predict_proba, train_classifier
from synthfer.train.identity_gan import IdentityGANConfig, sample_identities, train_identity_gan
from synthfer.train.stargan import StarGANConfig, gradient_penalty, train_stargan, translate


def test_paper_cnn_has_the_papers_size():
    model = PaperCNN(64)
    assert sum(p.numel() for p in model.parameters()) == 4_966_022  # Table 1: about 4.97 M
    assert model.classifier[1].in_features == 6 * 6 * 128
    assert model(torch.zeros(3, 1, 64, 64)).shape == (3, len(EMOTIONS))
    assert PaperCNN(32)(torch.zeros(2, 1, 32, 32)).shape == (2, len(EMOTIONS))


def test_paper_cnn_starts_like_the_authors_keras_model():
    model = PaperCNN(64)
    dense = model.classifier[1]
    bound = (6 / (dense.in_features + dense.out_features)) ** 0.5  # Glorot-uniform limit
    assert dense.weight.abs().max() <= bound and dense.weight.abs().max() > 0.9 * bound
    assert all(m.bias.abs().sum() == 0 for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)))


def test_stargan_shapes():
    G = Generator(conv_dim=8, c_dim=len(DOMAINS), repeat_num=2)
    D = Discriminator(image_size=32, conv_dim=8, c_dim=len(DOMAINS), repeat_num=5)
    x = torch.rand(4, 1, 32, 32) * 2 - 1
    c = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 6]), len(DOMAINS)).float()
    y = G(x, c)
    assert y.shape == x.shape and y.abs().max() <= 1
    src, cls = D(y)
    assert src.shape == (4, 1, 1, 1) and cls.shape == (4, len(DOMAINS))
    with pytest.raises(ValueError, match="divisible"):
        Discriminator(image_size=48, repeat_num=5)


def test_gradient_penalty_matches_hand_computation():
    w = torch.tensor([3.0, 4.0])  # D(x) = w.x has gradient w, norm 5: penalty (5 - 1)^2 = 16
    x = torch.randn(6, 2, requires_grad=True)
    assert gradient_penalty(x @ w, x).item() == pytest.approx(16.0)


def test_identity_gan_shapes():
    G, D = IdentityGenerator(32, z_dim=16, width=8), IdentityDiscriminator(32, width=8)
    img = G(torch.randn(5, 16))
    assert img.shape == (5, 1, 32, 32)
    assert D(img).shape == (5,)
    with pytest.raises(ValueError, match="power-of-two"):
        IdentityGenerator(48)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_classifier_training_learns_and_keeps_the_best_epoch(precision):
    x, y = bar_faces()
    cfg = ClassifierConfig(image_size=32, max_epochs=8, patience=3, batch_size=16, lr=1e-3, precision=precision)
    model, history = train_classifier(x[:200], y[:200], x[200:], y[200:], cfg, seed=0, device=torch.device("cpu"))
    assert set(history["precision"]) == {precision}
    assert history["val_loss"].min() < history["val_loss"].iloc[0]
    assert history["best"].sum() == 1
    best = history.loc[history["best"], "val_loss"].item()
    assert best == history["val_loss"].min()
    proba = predict_proba(model, x[200:])
    assert proba.shape == (40, len(EMOTIONS)) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert (proba.argmax(1) == y[200:]).mean() > 0.8


def test_the_fused_adam_makes_the_default_adams_updates():
    """`adam` changes how the update is computed (one kernel), not what it is: same lr, betas and epsilon as the
    paper's Adam. Both optimisers get the same gradients at every step (fed in, not backpropagated), so nothing
    feeds their rounding back: after 5 steps their weights may differ only by the rounding of 5 updates, a few
    float32 ulps of each weight (|w| < 1 here: 2**-23 ~ 1.2e-7 per ulp). Training on their own gradients instead
    lets Adam amplify a rounding difference in a near-zero gradient into a full lr-sized step, by an amount that
    depends on the CPU's kernels; a wrong lr, beta or epsilon moves weights by about lr = 1e-3 after one step."""
    torch.manual_seed(0)
    model = PaperCNN(32)
    weights = [[p.detach().clone().requires_grad_(True) for p in model.parameters()] for _ in range(2)]
    opts = [torch.optim.Adam(weights[0], lr=1e-3), adam(weights[1], 1e-3)]
    assert opts[1].defaults["fused"] is True
    for step in range(5):
        gradients = [torch.randn_like(w) * 10.0 ** -(step % 3) for w in weights[0]]  # small and large ones alike
        for ws, opt in zip(weights, opts, strict=True):
            for w, g in zip(ws, gradients, strict=True):
                w.grad = g.clone()
            opt.step()
    initial = list(model.parameters())
    for a, b, w0 in zip(weights[0], weights[1], initial, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=5 * 4 * 2**-23)  # 4 ulps of a weight below 1, 5 steps
        assert not torch.equal(b, w0)  # it moved
        assert (a - w0).abs().max() > 1e-4  # by steps far larger than the tolerance


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_relu_after_pool_trains_bit_identically_to_the_papers_order(precision):
    """PaperCNN runs each ReLU after its max-pool (faster); the paper's order, conv -> ReLU -> pool, must give
    the same logits, gradients and weights, bit for bit, dropout included, blank faces (all-tie windows) too."""
    from synthfer.runtime import autocast

    x, y = bar_faces(n=48)
    x[:8] = 0  # blank faces: every window of the first conv's output ties
    images = (torch.from_numpy(x).unsqueeze(1).float() / 255).contiguous(memory_format=torch.channels_last)
    ours, papers = PaperCNN(32), PaperCNN(32, relu_after_pool=False)
    assert [type(m) for m in ours.features] != [type(m) for m in papers.features]  # the orders do differ
    papers.load_state_dict(ours.state_dict())  # the conv layers keep their positions: checkpoints load
    runs = []
    for model in (ours, papers):
        model.to(memory_format=torch.channels_last).train()
        opt = adam(model.parameters(), 1e-3)
        torch.manual_seed(0)  # the same dropout masks for both
        steps = []
        for i in range(0, 48, 16):
            with autocast(torch.device("cpu"), precision):
                logits = model(images[i : i + 16]).float()
            loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y[i : i + 16]))
            opt.zero_grad()
            loss.backward()
            steps.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
            opt.step()
        runs.append((steps, [p.detach() for p in model.parameters()]))
    (steps_a, weights_a), (steps_b, weights_b) = runs
    for (logits_a, grads_a), (logits_b, grads_b) in zip(steps_a, steps_b, strict=True):
        assert torch.equal(logits_a, logits_b)
        assert all(torch.equal(a, b) for a, b in zip(grads_a, grads_b, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(weights_a, weights_b, strict=True))


def test_predictions_do_not_depend_on_the_layout_or_the_batch_the_model_comes_in():
    """predict_proba puts the model in channels_last (the fast layout on a CPU): a model loaded in the default
    layout predicts what the same weights predict in channels_last, whatever the batch size."""
    x, _ = bar_faces(n=70)
    model = PaperCNN(32).eval()
    reference = torch.softmax(model(torch.from_numpy(x).unsqueeze(1).float() / 255), 1).detach().numpy()
    for batch in (256, 16):
        contiguous = PaperCNN(32)
        contiguous.load_state_dict(model.state_dict())
        proba = predict_proba(contiguous, x, batch_size=batch)
        assert contiguous.features[0].weight.is_contiguous(memory_format=torch.channels_last)
        np.testing.assert_allclose(proba, reference, atol=2e-2)  # bf16 on CPUs with bf16 units, else fp32


def test_early_stopping_counts_patience_only_after_start_from_epoch():
    plateau_then_learning = [1.792, 1.793, 1.794, 1.795, 1.793, 1.6, 1.2, 1.3, 1.4, 1.5, 1.1]
    stops = {}
    for start in (0, 4):
        stopping = EarlyStopping(patience=3, start_from_epoch=start)
        for epoch, loss in enumerate(plateau_then_learning, start=1):
            stopping.update(epoch, loss)
            if stopping.stop:
                break
        stops[start] = (epoch, stopping.best_epoch)
    assert stops[0] == (4, 1)  # the paper's rule gives up on the chance plateau
    assert stops[4] == (10, 7)  # the plateau does not count; it stops 3 epochs after the real best


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_classifier_training_is_reproducible(precision):
    x, y = bar_faces(n=96)
    cfg = ClassifierConfig(image_size=32, max_epochs=2, patience=2, batch_size=16, lr=1e-3, precision=precision)
    runs = [
        train_classifier(x[:80], y[:80], x[80:], y[80:], cfg, seed=5, device=torch.device("cpu"))[1] for _ in range(2)
    ]
    np.testing.assert_allclose(runs[0]["train_loss"], runs[1]["train_loss"], rtol=1e-6)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_classifier_trains_in_the_precision_it_is_given(precision, monkeypatch):
    """bf16 means the convolutions and the linear layers really run in bf16 (autocast), in training and in
    validation; fp32 means nothing does."""
    seen: set[torch.dtype] = set()
    build = ClassifierConfig.build

    def build_and_watch(self: ClassifierConfig) -> torch.nn.Module:
        model = build(self)
        for module in model.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                module.register_forward_hook(lambda _m, _i, out: seen.add(out.dtype))
        return model

    monkeypatch.setattr(ClassifierConfig, "build", build_and_watch)
    x, y = bar_faces(n=48)
    cfg = ClassifierConfig(image_size=32, max_epochs=1, patience=1, batch_size=16, precision=precision)
    train_classifier(x[:32], y[:32], x[32:], y[32:], cfg, seed=0, device=torch.device("cpu"))
    assert seen == {torch.bfloat16 if precision == "bf16" else torch.float32}


def test_auto_precision_is_bf16_only_where_the_device_has_bf16_units(monkeypatch):
    from synthfer import runtime

    cpu = torch.device("cpu")
    for native, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda native=native: native)
        assert runtime.resolve_precision("auto", cpu) == expected
        assert runtime.resolve_precision("fp32", cpu) == "fp32" and runtime.resolve_precision("bf16", cpu) == "bf16"
        assert (
            runtime.autocast(cpu).__class__ is contextlib.nullcontext
        )  # the inference rule (test predictions, generated faces): fp32 on a CPU either way
    with pytest.raises(ValueError, match="auto, fp32, bf16|'auto', 'fp32', 'bf16'"):
        runtime.resolve_precision("fp16", cpu)
    with pytest.raises(ValueError, match="precision"):
        ClassifierConfig(precision="fp16")


def test_a_compiled_classifier_computes_what_the_eager_one_does_and_the_trial_step_leaves_no_trace():
    from synthfer.train.classifier import compiled_or_eager

    x, y = bar_faces(n=16)
    xb, yb = torch.from_numpy(x).unsqueeze(1).float() / 255, torch.from_numpy(y)
    torch.manual_seed(0)
    model = PaperCNN(32)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(1)
    expected_draw = torch.rand(3)
    torch.manual_seed(1)
    net = compiled_or_eager(model, xb, yb, "fp32", backend="aot_eager")  # Dynamo + AOTAutograd, no C++ build: fast
    assert net is not model and torch.equal(
        torch.rand(3), expected_draw
    )  # the trial step drew nothing from the run's RNG
    assert all(p.grad is None for p in model.parameters()) and all(
        torch.equal(v, weights[k]) for k, v in model.state_dict().items()
    )
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(net(xb), model(xb), rtol=1e-5, atol=1e-5)


def test_a_compiler_failure_falls_back_to_eager_training(monkeypatch, caplog):
    import synthfer.train.classifier as classifier

    def broken_backend(graph, example_inputs):
        raise RuntimeError("no C++ compiler on this node")

    monkeypatch.setattr(
        classifier, "compiled_or_eager", functools.partial(classifier.compiled_or_eager, backend=broken_backend)
    )
    x, y = bar_faces()
    cfg = ClassifierConfig(
        image_size=32, max_epochs=3, patience=3, batch_size=16, lr=1e-3, compile=True, precision="fp32"
    )
    with caplog.at_level("WARNING", logger="synthfer"):
        model, history = train_classifier(x[:200], y[:200], x[200:], y[200:], cfg, seed=0, device=torch.device("cpu"))
    assert "torch.compile failed" in caplog.text and "no C++ compiler" in caplog.text
    assert not history["compiled"].any() and history["val_loss"].iloc[-1] < history["val_loss"].iloc[0]
    eager = train_classifier(
        x[:200], y[:200], x[200:], y[200:], replace(cfg, compile=False), seed=0, device=torch.device("cpu")
    )[1]
    np.testing.assert_allclose(
        history["train_loss"], eager["train_loss"], rtol=1e-6
    )  # the failed trial changed nothing


def test_classifier_training_runs_compiled(monkeypatch):
    import synthfer.train.classifier as classifier

    monkeypatch.setattr(
        classifier, "compiled_or_eager", functools.partial(classifier.compiled_or_eager, backend="aot_eager")
    )
    x, y = bar_faces()
    cfg = ClassifierConfig(
        image_size=32, max_epochs=4, patience=4, batch_size=16, lr=1e-3, compile=True, precision="fp32"
    )
    model, history = train_classifier(x[:200], y[:200], x[200:], y[200:], cfg, seed=0, device=torch.device("cpu"))
    assert history["compiled"].all() and history["val_loss"].min() < 0.9 * history["val_loss"].iloc[0]
    assert isinstance(model, PaperCNN)  # the plain module comes back: its state_dict has no compile prefixes
    assert (predict_proba(model, x[200:]).argmax(1) == y[200:]).mean() > 0.5


def test_stargan_learns_to_tell_the_domains_apart(tmp_path):
    """A few dozen iterations on domains that differ in brightness: D's domain loss must fall."""
    rng = np.random.default_rng(0)
    domains = np.repeat(np.arange(len(DOMAINS)), 16)
    images = np.clip(rng.normal(20 + 30 * domains[:, None, None], 8, (len(domains), 16, 16)), 0, 255).astype(np.uint8)
    cfg = StarGANConfig(
        image_size=16,
        conv_dim=8,
        d_conv_dim=8,
        g_repeat=1,
        iterations=60,
        batch_size=16,
        n_critic=2,
        d_lr=1e-3,
        g_lr=1e-3,
        log_every=10,
        sample_every=60,
    )
    G, losses = train_stargan(images, domains, cfg, torch.device("cpu"), tmp_path)
    assert losses["d_cls"].iloc[-2:].mean() < losses["d_cls"].iloc[:2].mean()
    assert np.isfinite(losses.drop(columns="iteration").to_numpy()).all()
    assert (tmp_path / "losses.png").exists() and list(tmp_path.glob("samples_*.png"))
    out = translate(G, torch.from_numpy(images[:5]).unsqueeze(1), DOMAINS.index("happiness"))
    assert out.shape == (5, 1, 16, 16) and out.dtype == torch.uint8


def test_identity_gan_trains_and_samples_deterministically(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (64, 16, 16), dtype=np.uint8)
    cfg = IdentityGANConfig(image_size=16, z_dim=8, width=8, iterations=6, batch_size=8, log_every=3, sample_every=6)
    G, losses = train_identity_gan(images, cfg, torch.device("cpu"), tmp_path)
    assert len(losses) == 2 and np.isfinite(losses[["d_loss", "g_loss"]].to_numpy()).all()
    a, b = sample_identities(G, 4, seed=1), sample_identities(G, 4, seed=1)
    assert a.shape == (4, 1, 16, 16) and torch.equal(a, b)
    assert not torch.equal(a, sample_identities(G, 4, seed=2))


def test_a_model_file_records_what_made_it(tmp_path):
    from synthfer.checkpoint import load_torch
    from synthfer.train.classifier import ClassifierConfig, load_classifier, save_classifier

    cfg = ClassifierConfig(image_size=32, lr=0.01)
    save_classifier(cfg.build(), cfg, tmp_path / "m.pt")
    saved = load_torch(tmp_path / "m.pt")
    assert saved["config"]["lr"] == 0.01 and torch.__version__.startswith(saved["provenance"]["versions"]["torch"])
    assert len(saved["provenance"]["commit"].split("+")[0]) in (40, len("unknown"))
    assert isinstance(load_classifier(tmp_path / "m.pt", torch.device("cpu")), torch.nn.Module)


@pytest.mark.parametrize(
    ("capability", "expected"), [((7, 0), "fp32"), ((7, 5), "fp32"), ((8, 0), "bf16"), ((9, 0), "bf16")]
)
def test_auto_precision_on_a_gpu_is_bf16_only_where_bf16_is_native(monkeypatch, capability, expected):
    """V100 (7.0) and T4 (7.5) report `is_bf16_supported()` by emulation; auto must not pick bf16 there,
    neither for the classifiers nor for the GAN loops."""
    from synthfer import runtime

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    gpu = torch.device("cuda", 0)
    assert runtime.resolve_precision("auto", gpu) == expected
    gan_context = runtime.autocast(gpu)  # precision None: the GAN loops' rule
    if expected == "fp32":
        assert gan_context.__class__ is contextlib.nullcontext
    else:
        assert isinstance(gan_context, torch.autocast) and gan_context.fast_dtype == torch.bfloat16
