"""Training the expression classifier as in the paper, minus its bugs.

Cross-entropy, Adam (lr 1e-4), batch 16, early stopping on validation loss with patience 5 and the best
weights restored before any test. Pixels are scaled by `tensors.to_unit` for training, validation and
test alike. The data stay one uint8 tensor on the device; batches are drawn by index.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from synthfer.augment import augment_batch
from synthfer.checkpoint import load_model, save_model
from synthfer.labels import EMOTIONS
from synthfer.logs import Progress
from synthfer.models import classifier as networks  # noqa: F401 - the networks this loop trains (built by ClassifierConfig): part of its code for synthfer.codemap
from synthfer.runtime import autocast, resolve_precision, seed_everything
from synthfer.settings import CLASSIFIER_ARCHITECTURES, PRECISIONS, ClassifierConfig  # noqa: F401 - re-exported
from synthfer.tensors import to_unit
from synthfer.train.graphs import StepGraphs, eager_reason

log = logging.getLogger("synthfer")


ARCHITECTURES = CLASSIFIER_ARCHITECTURES


def vgg16_gray(n_classes: int) -> torch.nn.Module:
    """torchvision's VGG16 (no pretrained weights), its first conv taking one gray channel."""
    from torchvision.models import vgg16

    model = vgg16(weights=None, num_classes=n_classes)
    model.features[0] = torch.nn.Conv2d(1, 64, kernel_size=3, padding=1)
    return model


@dataclass
class EarlyStopping:
    """Early stopping on validation loss, as Keras does it: stop after `patience` epochs without a new best,
    counting only epochs after `start_from_epoch`, so that a network still on its initial chance plateau
    (validation loss near ln 6) is not stopped before it starts to learn. The best epoch is kept over all epochs."""

    patience: int
    start_from_epoch: int = 0
    best_loss: float = float("inf")
    best_epoch: int = 0
    waited: int = 0

    def update(self, epoch: int, loss: float) -> bool:
        """Record one epoch's validation loss; True when it is the best so far."""
        if loss < self.best_loss:
            self.best_loss, self.best_epoch, self.waited = loss, epoch, 0
            return True
        if epoch > self.start_from_epoch:
            self.waited += 1
        return False

    @property
    def stop(self) -> bool:
        return self.waited >= self.patience


def adam(params: Iterable[torch.Tensor], lr: float, device: torch.device | None = None) -> torch.optim.Adam:
    """Adam with the paper's settings, its update run as one fused kernel over all parameters: the default
    per-parameter loop was 19% of a training step of the paper CNN on one CPU core; fused, the whole step is ~1.2x
    faster (`make bench` times both side by side). Fused is also the faster path on CUDA. Its rounding differs from the
    loop's, so weights are not bit-identical to a run with the default Adam. On a device whose steps are captured
    (`device`, synthfer.train.graphs) it is also capturable: the same update, its step count kept on the device."""
    return torch.optim.Adam(params, lr=lr, fused=True, capturable=device is not None and eager_reason(device) is None)


class ClassifierStep:
    """One optimiser step of a classifier on a batch (x, y), captured as a CUDA graph per batch shape on a GPU
    (synthfer.train.graphs), eager elsewhere. Returns (the batch's mean loss, its logits), as device tensors.
    `model`: anything that maps a batch to logits (stacked.StackedStep overrides `_losses` for stacked models)."""

    label = "classifier step"

    def __init__(self, model: Any, opt: torch.optim.Optimizer, precision: str = "auto") -> None:
        self.model, self.opt, self.precision = model, opt, precision
        device = opt.param_groups[0]["params"][0].device
        self.graphs = StepGraphs(device, self.label) if _capturable(opt, device) else None

    def _losses(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(what backward starts from, the loss to report, the logits)."""
        with autocast(x.device, self.precision):
            logits = self.model(x).float()
            loss = F.cross_entropy(logits, y)
        return loss, loss, logits

    def _update(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        objective, loss, logits = self._losses(x, y)
        self.opt.zero_grad(set_to_none=True)
        objective.backward()
        self.opt.step()
        return loss.detach(), logits.detach()

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.graphs is None:
            return self._update(x, y)
        return self.graphs(tuple(x.shape), self._update, x, y)


def _capturable(opt: torch.optim.Optimizer, device: torch.device) -> bool:
    """Steps are captured on `device` and `opt` can step inside a graph (an optimiser made by `adam(..., device)`:
    one made elsewhere, as the bench's naive reference makes its own, trains eagerly)."""
    return eager_reason(device) is None and all(group.get("capturable", False) for group in opt.param_groups)


def _as_tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1).to(device)


def compiled_or_eager(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, precision: str, backend: str = "inductor"
) -> torch.nn.Module:
    """`torch.compile(model)` when it compiles and runs one training step on (x, y), else `model` itself, with
    a warning: a missing C++ compiler or an unsupported device must not stop a study. The trial step leaves
    no trace: gradients are cleared and the RNG state is restored, so the run draws what it would draw."""
    device = x.device
    compiled = torch.compile(model, backend=backend)
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            model.train()
            with autocast(device, precision):
                loss = F.cross_entropy(compiled(x.contiguous(memory_format=torch.channels_last)).float(), y)
            loss.backward()
    except Exception as error:  # noqa: BLE001 - whatever the compiler raises, the eager model still trains
        cause = (
            getattr(error, "inner_exception", None) or error.__cause__ or error
        )  # Dynamo wraps the compiler's own error
        first_line = (str(cause).strip().splitlines() or [""])[0]
        log.warning("torch.compile failed (%s: %s); training without it", type(cause).__name__, first_line[:300])
        compiled = model
    finally:
        model.zero_grad(set_to_none=True)
    return compiled


@torch.no_grad()
def predict_proba(model: torch.nn.Module, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities for uint8 faces (N, S, S), in batches of 256 (faster on a CPU than 1024: they stay in
    cache); the model is put in channels_last, the layout it trains in."""
    device = next(model.parameters()).device
    model.eval().to(memory_format=torch.channels_last)  # NHWC: 2.2x faster on a CPU than NCHW weights (measured, bf16)
    x_all = _as_tensor(images, device)
    out = []
    with autocast(device):
        for i in range(0, len(x_all), batch_size):
            x = to_unit(x_all[i : i + batch_size]).contiguous(memory_format=torch.channels_last)
            out.append(torch.softmax(model(x).float(), dim=1).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, model.classifier[-1].out_features), np.float32)


@torch.no_grad()
def _mean_loss(
    model: torch.nn.Module, x_all: torch.Tensor, y_all: torch.Tensor, batch_size: int, precision: str = "auto"
) -> float:
    model.eval()
    total = torch.zeros((), device=x_all.device)
    with autocast(x_all.device, precision):
        for i in range(0, len(x_all), batch_size):
            logits = model(to_unit(x_all[i : i + batch_size])).float()
            total += F.cross_entropy(logits, y_all[i : i + batch_size], reduction="sum")
    return total.item() / max(1, len(x_all))


def train_one_epoch(
    step: ClassifierStep,
    x_tr: torch.Tensor,
    y_tr: torch.Tensor,
    batch_size: int,
    gen: torch.Generator,
    augment: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One pass over uint8 faces already on the device, batches by index (each face flipped and warped its
    own way when `augment`), each batch one `step`; returns (loss sum, correct) as device tensors, so nothing
    waits for the device inside the loop."""
    device = x_tr.device
    step.model.train()
    order = torch.randperm(len(x_tr), generator=gen, device=gen.device).to(device)
    running = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        x = to_unit(x_tr[idx])
        if augment:
            x = augment_batch(x, gen)
        x = x.contiguous(memory_format=torch.channels_last)
        loss, logits = step(x, y_tr[idx])
        running += loss * len(idx)
        correct += (logits.argmax(1) == y_tr[idx]).sum()
    return running, correct


def train_classifier(
    train_x: np.ndarray,
    train_y: np.ndarray,
    val_x: np.ndarray,
    val_y: np.ndarray,
    cfg: ClassifierConfig,
    seed: int,
    device: torch.device,
) -> tuple[torch.nn.Module, pd.DataFrame]:
    """Train with early stopping on validation loss; returns the best model and the per-epoch history
    (with the precision the run actually used, `auto` resolved)."""
    gen = seed_everything(seed, device)
    precision = resolve_precision(cfg.precision, device)
    log.info("training on %s in %s", device, precision)
    model = cfg.build().to(
        device, memory_format=torch.channels_last
    )  # NHWC: ~1.2x faster convs on CPU, tensor cores on CUDA
    opt = adam(model.parameters(), cfg.lr, None if cfg.compile else device)  # compiled: torch.compile's own graphs
    x_tr, y_tr = _as_tensor(train_x, device), torch.from_numpy(train_y.astype(np.int64)).to(device)
    x_va, y_va = _as_tensor(val_x, device), torch.from_numpy(val_y.astype(np.int64)).to(device)
    best_state, stopping = copy.deepcopy(model.state_dict()), EarlyStopping(cfg.patience, cfg.start_from_epoch)
    net = (
        compiled_or_eager(model, to_unit(x_tr[: cfg.batch_size]), y_tr[: cfg.batch_size], precision)
        if cfg.compile
        else model
    )
    step = ClassifierStep(net, opt, precision)
    history = []
    progress = Progress("classifier epoch", cfg.max_epochs, every_s=0)
    for epoch in range(1, cfg.max_epochs + 1):
        running, correct = train_one_epoch(step, x_tr, y_tr, cfg.batch_size, gen, cfg.augment)
        val_loss = _mean_loss(net, x_va, y_va, cfg.eval_batch_size, precision)
        row = {
            "epoch": epoch,
            "train_loss": running.item() / len(x_tr),
            "train_accuracy": correct.item() / len(x_tr),
            "val_loss": val_loss,
        }
        history.append(row)
        improved = stopping.update(epoch, val_loss)
        if improved:
            best_state = copy.deepcopy(model.state_dict())
        progress.update(
            epoch,
            f"train_loss={row['train_loss']:.4f} train_acc={row['train_accuracy']:.3f} val_loss={val_loss:.4f}{' *' if improved else ''}",
        )
        if stopping.stop:
            log.info(
                "early stop at epoch %d; best epoch %d (val_loss %.4f)", epoch, stopping.best_epoch, stopping.best_loss
            )
            break
    model.load_state_dict(best_state)
    hist = pd.DataFrame(history)
    hist["best"] = hist["epoch"] == stopping.best_epoch
    hist["precision"] = precision
    hist["compiled"] = net is not model
    return model.eval(), hist


INPUT_SCALING = "grayscale uint8 faces / 255 (synthfer.tensors.to_unit)"

FAMILIAR_QUANTILE = 0.99
"""A face is far from a model's training faces when its feature distance exceeds what this share of the model's
validation faces (held-out subjects of the same data) reach."""
FAMILIAR_BANK, FAMILIAR_K = 256, 5
"""Training faces whose features the model file keeps (fp16: 0.5 MB for the paper CNN's 1024 features, beside
its 33 MB of weights), and the neighbours a distance averages over."""


@torch.no_grad()
def last_layer_inputs(model: torch.nn.Module, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The features the classifier's last linear layer sees for uint8 faces (N, S, S), in eval mode, fp32."""
    last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    seen: list[torch.Tensor] = []
    hook = last.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].float().cpu()))
    try:
        predict_proba(model, images, batch_size)
    finally:
        hook.remove()
    return torch.cat(seen).numpy() if seen else np.zeros((0, last.in_features), np.float32)


def _unit_rows(features: np.ndarray) -> np.ndarray:
    return features / (np.linalg.norm(features, axis=1, keepdims=True) + 1e-12)


def familiarity(model: torch.nn.Module, train_images: np.ndarray, val_images: np.ndarray, seed: int = 0) -> dict:
    """What `synthfer predict` needs to tell a photo far from the training faces (distance_to_training): the
    normalised features of up to FAMILIAR_BANK training faces, and the FAMILIAR_QUANTILE of the validation faces'
    distances to them. Nearest neighbours in normalised features (Sun et al. 2022, "Out-of-distribution detection
    with deep nearest neighbors"): a per-feature z-score rated a real photo closer than the training faces
    themselves, its ReLU features mostly silent where theirs are small."""
    train = _unit_rows(last_layer_inputs(model, train_images))
    pick = np.random.default_rng(seed).permutation(len(train))[:FAMILIAR_BANK]
    bank = train[np.sort(pick)].astype(np.float16)
    val = distance_to_training(last_layer_inputs(model, val_images), bank)
    return {
        "bank": torch.from_numpy(bank),
        "k": FAMILIAR_K,
        "threshold": float(np.quantile(val, FAMILIAR_QUANTILE)) if len(val) else float("inf"),
        "quantile": FAMILIAR_QUANTILE,
    }


def distance_to_training(features: np.ndarray, bank: np.ndarray | torch.Tensor, k: int = FAMILIAR_K) -> np.ndarray:
    """Per face, the mean cosine distance of its features to its k nearest kept training faces."""
    bank = bank.float().numpy() if isinstance(bank, torch.Tensor) else np.asarray(bank, np.float32)
    distances = 1.0 - _unit_rows(features) @ bank.T
    k = max(1, min(k, bank.shape[0]))
    return np.sort(distances, axis=1)[:, :k].mean(1) if len(bank) else np.full(len(features), np.inf)


def save_classifier(
    model: torch.nn.Module,
    cfg: ClassifierConfig,
    path: str | os.PathLike,
    preprocess: dict | None = None,
    familiar: dict | None = None,
) -> None:
    """The model file carries its class names (output order), the preprocessing its faces went through
    (alignment geometry, image size, scaling), so `synthfer predict` needs nothing re-typed, and what its
    training faces look like to it (`familiar`: familiarity), so that predict can say which photos are far from
    them."""
    extra = {"classes": list(EMOTIONS), "preprocess": preprocess, "input_scaling": INPUT_SCALING, "familiar": familiar}
    save_model(model, cfg, path, extra)


def load_classifier(path: str | os.PathLike, device: torch.device) -> torch.nn.Module:
    return load_model(path, ClassifierConfig, ClassifierConfig.build, device)[0]
