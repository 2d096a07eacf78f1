"""Several seeds trained as one stacked model equal separate runs (dropout off: its masks come from another
RNG stream), and with dropout each seed still trains its own model. On a CPU the seeds of one job train one
after another, each exactly as its own job would."""

import numpy as np
import pytest
import torch
from torch import nn

from synthfer.models.classifier import PaperCNN
from synthfer.runtime import resolve_precision
from synthfer.train.classifier import ClassifierConfig, train_classifier
from synthfer.train.stacked import StackedModels, _per_model_loss, train_classifiers_stacked, train_seeds

SEEDS = [0, 1, 2]


def _learnable(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noisy faces whose brightness gives the class: val loss falls clearly, so best epochs are not ties."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(6), n_per_class)
    return np.clip(rng.normal(40 * y[:, None, None], 20, (len(y), 24, 24)), 0, 255).astype(np.uint8), y


@pytest.fixture
def no_dropout(monkeypatch):
    def build(self: ClassifierConfig) -> PaperCNN:
        model = PaperCNN(self.image_size, self.n_classes)
        for module in model.modules():
            if isinstance(module, nn.Dropout):
                module.p = 0.0
        return model

    monkeypatch.setattr(ClassifierConfig, "build", build)


def test_stacked_models_give_each_model_its_own_loss_and_gradient(no_dropout):
    cfg = ClassifierConfig(image_size=24)
    models = []
    for seed in SEEDS:
        torch.manual_seed(seed)
        models.append(cfg.build())
    x, y = _learnable(8, 0)
    rng = np.random.default_rng(0)
    idx = torch.from_numpy(np.stack([rng.permutation(len(x))[:16] for _ in SEEDS]))  # its own batch per model
    xb, yb = torch.from_numpy(x)[idx].unsqueeze(2).float() / 255, torch.from_numpy(y)[idx]
    stack = StackedModels(models)
    losses = _per_model_loss(stack(xb), yb, "mean")
    losses.sum().backward()
    for s, model in enumerate(models):
        loss = torch.nn.functional.cross_entropy(model(xb[s]), yb[s])
        loss.backward()
        assert losses[s].item() == pytest.approx(loss.item(), rel=1e-5)
        for name, p in model.named_parameters():
            np.testing.assert_allclose(
                stack.params[name].grad[s].numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-7, err_msg=name
            )


def test_stacked_seeds_train_like_separate_runs_without_dropout(no_dropout):
    torch.set_num_threads(2)
    (x, y), (vx, vy) = _learnable(12, 0), _learnable(5, 1)
    cfg = ClassifierConfig(
        image_size=24, max_epochs=6, patience=6, batch_size=16, lr=1e-3, precision="fp32"
    )  # the tolerance below is fp32's
    stacked = train_classifiers_stacked(x, y, vx, vy, cfg, SEEDS, torch.device("cpu"))
    separate = [train_classifier(x, y, vx, vy, cfg, s, torch.device("cpu")) for s in SEEDS]
    # Grouped convolutions (stacked) and single ones (separate) sum in other orders, and Adam turns those float
    # differences in near-zero gradients into weight differences that grow with every step, by amounts that
    # depend on the CPU's kernels (AMX or not). What the test must tell apart is a model that trains as its own
    # seed from one that mixes in another seed's gradients or optimiser state: the latter lands as far from its
    # separate run as another seed does. So over the first 4 epochs a stacked seed must stay, on average, within
    # half the distance from its separate run to the nearest other seed's (measured: 0.07 on an AMD CPU).
    for s, ((_, h_stacked), (_, h_separate)) in enumerate(zip(stacked, separate, strict=True)):
        assert list(h_stacked["epoch"]) == list(h_separate["epoch"])
        for column in ("train_loss", "val_loss"):
            drift = np.abs(h_stacked[column][:4].to_numpy() - h_separate[column][:4].to_numpy()).mean()
            nearest = min(
                np.abs(other[column][:4].to_numpy() - h_separate[column][:4].to_numpy()).mean()
                for o, (_, other) in enumerate(separate)
                if o != s
            )
            assert drift < 0.5 * nearest, (s, column, drift, nearest)
    probe = torch.from_numpy(vx).float().unsqueeze(1) / 255
    with torch.no_grad():
        assert not torch.allclose(stacked[0][0](probe), stacked[1][0](probe), atol=1e-3)  # seeds are different models


def test_stacked_seeds_learn_with_dropout_and_stop_on_their_own():
    torch.set_num_threads(2)
    (x, y), (vx, vy) = _learnable(10, 0), _learnable(10, 1)
    cfg = ClassifierConfig(image_size=24, max_epochs=15, patience=2, batch_size=16, lr=1e-3)
    results = train_classifiers_stacked(x, y, vx, vy, cfg, SEEDS, torch.device("cpu"))
    for model, history in results:
        assert history["best"].sum() == 1
        best_epoch = history.loc[history["best"], "epoch"].item()
        assert len(history) == cfg.max_epochs or len(history) == best_epoch + cfg.patience  # its own early stop
        best = history.loc[history["best"], "val_loss"].item()
        assert best == history["val_loss"].min() and best < np.log(6) * 0.7  # clearly learned, best epoch kept
        assert (
            set(history["precision"]) == {resolve_precision("auto", torch.device("cpu"))}
            and not history["compiled"].any()
        )  # what made it
        with torch.no_grad():
            pred = model(torch.from_numpy(vx).float().unsqueeze(1) / 255).argmax(1).numpy()
        assert (pred == vy).mean() > 0.5


def test_on_a_cpu_the_seeds_of_one_job_train_exactly_as_separate_jobs():
    torch.set_num_threads(1)
    (x, y), (vx, vy) = _learnable(8, 0), _learnable(4, 1)
    cfg = ClassifierConfig(image_size=24, max_epochs=3, patience=3, batch_size=16, lr=1e-3, precision="fp32")
    together = train_seeds(x, y, vx, vy, cfg, [0, 1], torch.device("cpu"))
    alone = train_seeds(x, y, vx, vy, cfg, [1], torch.device("cpu"))  # seed 1 with nothing trained before it
    (model_after, history_after), (model_alone, history_alone) = together[1], alone[0]
    assert history_after.equals(history_alone)  # bit for bit: nothing leaks from seed 0's run into seed 1's
    for name, tensor in model_alone.state_dict().items():
        assert torch.equal(tensor, model_after.state_dict()[name]), name
    assert not history_after.equals(together[0][1])  # and the seeds are different runs
