"""Several seeds of the paper CNN trained in one job: stacked on a GPU, so that it trains many small CNNs at
once; one after another on a CPU, where stacking is slower, so that the seeds share one Python start.

A 5 M-parameter CNN at batch 16 leaves a large GPU mostly idle; stacking S seeds makes every layer one
batched (grouped) kernel over S models. The models are stacked with torch.func (`stack_module_state`,
`vmap` over `functional_call`). Adam is elementwise, so one Adam over the stacked parameters is exactly one
Adam per model, and the summed loss gives each model its own gradient. Each seed keeps its own
initialisation, its own batch order and its own early stopping: a model that has stopped keeps its best
weights while the others train on.

Dropout masks are drawn from the shared torch RNG (`randomness="different"`): with dropout the stacked runs
are other draws than the separate runs (same distribution); without dropout they equal the separate runs to
float tolerance (tested).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from synthfer.augment import augment_batch
from synthfer.logs import Progress
from synthfer.models.dropout import with_native_dropout
from synthfer.runtime import autocast, resolve_precision, seed_everything
from synthfer.tensors import to_unit
from synthfer.train.classifier import (
    ClassifierConfig,
    ClassifierStep,
    EarlyStopping,
    _as_tensor,
    adam,
    train_classifier,
)

log = logging.getLogger("synthfer")


class StackedModels:
    """S copies of one architecture as stacked parameter tensors (leading dim S) and a vmapped forward."""

    def __init__(self, models: list[torch.nn.Module]) -> None:
        self.params, self.buffers = stack_module_state(models)
        self.base = with_native_dropout(models[0]).to("meta")
        self._forward = vmap(self._one, randomness="different")

    def _one(self, params: dict, buffers: dict, x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.base, (params, buffers), (x,))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x: (S, B, C, H, W), one batch per model -> logits (S, B, classes)."""
        return self._forward(self.params, self.buffers, x)

    def train(self, mode: bool = True) -> None:
        self.base.train(mode)

    def state_dict(self, s: int) -> dict[str, torch.Tensor]:
        """Model s's weights, detached copies."""
        return {name: t[s].detach().clone() for name, t in {**self.params, **self.buffers}.items()}


def _per_model_loss(logits: torch.Tensor, y: torch.Tensor, reduction: str) -> torch.Tensor:
    S, B = y.shape
    loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), reduction="none").view(S, B)
    return loss.mean(1) if reduction == "mean" else loss.sum(1)


@torch.no_grad()
def _val_losses(
    stack: StackedModels,
    x_va: torch.Tensor,
    y_va: torch.Tensor,
    n_models: int,
    batch_size: int,
    precision: str = "auto",
) -> torch.Tensor:
    stack.train(False)
    total = torch.zeros(n_models, device=x_va.device)
    with autocast(x_va.device, precision):
        for i in range(0, len(x_va), batch_size):
            x = to_unit(x_va[i : i + batch_size]).expand(n_models, *x_va[i : i + batch_size].shape)
            y = y_va[i : i + batch_size].expand(n_models, -1)
            total += _per_model_loss(stack(x), y, "sum")
    return total / max(1, len(x_va))


class StackedStep(ClassifierStep):
    """One optimiser step of every stacked model on its own batch (x: (S, B, ...), y: (S, B)), captured and
    returned as ClassifierStep does, the losses per model. One Adam over the stacked parameters is one Adam per
    model, and the summed loss gives each model its own gradient (module docstring)."""

    label = "stacked classifier step"

    def _losses(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        with autocast(x.device, self.precision):
            logits = self.model(x)
        loss = _per_model_loss(logits, y, "mean")
        return loss.sum(), loss, logits


def train_stacked_epoch(
    step: StackedStep,
    x_tr: torch.Tensor,
    y_tr: torch.Tensor,
    batch_size: int,
    gens: list[torch.Generator],
    augment: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One pass of every model over the uint8 faces on the device, each in its own order (gens[s]), each batch
    one `step`; returns per-model (loss sum, correct) as device tensors, so nothing waits for the device inside
    the loop."""
    device = x_tr.device
    n = len(gens)
    step.model.train(True)
    orders = torch.stack([torch.randperm(len(x_tr), generator=g, device=g.device) for g in gens]).to(device)
    running = torch.zeros(n, device=device)
    correct = torch.zeros(n, device=device)
    for i in range(0, orders.shape[1], batch_size):
        idx = orders[:, i : i + batch_size]
        x, y = to_unit(x_tr[idx]), y_tr[idx]
        if augment:  # each model's faces warped from its own generator, as in its separate run
            x = torch.stack([augment_batch(x[s], g) for s, g in enumerate(gens)])
        loss, logits = step(x, y)
        running += loss * idx.shape[1]
        correct += (logits.argmax(2) == y).sum(1)
    return running, correct


def train_classifiers_stacked(
    train_x: np.ndarray,
    train_y: np.ndarray,
    val_x: np.ndarray,
    val_y: np.ndarray,
    cfg: ClassifierConfig,
    seeds: list[int],
    device: torch.device,
) -> list[tuple[torch.nn.Module, pd.DataFrame]]:
    """What `train_classifier` gives for each seed, trained as one stacked model; returns (best model,
    history) per seed in the order of `seeds`."""
    precision = resolve_precision(cfg.precision, device)
    log.info("training %d seeds stacked on %s in %s", len(seeds), device, precision)
    if cfg.compile:
        log.warning("classifier.compile is not applied to stacked seeds (vmapped models); they train eagerly")
    models, gens = [], []
    for seed in seeds:  # the same draws, in the same order, as a separate run of this seed
        gens.append(seed_everything(seed, device))
        models.append(cfg.build().to(device))
    n = len(seeds)
    stack = StackedModels(models)
    step = StackedStep(stack, adam(stack.params.values(), cfg.lr, device), precision)
    x_tr, y_tr = _as_tensor(train_x, device), torch.from_numpy(train_y.astype(np.int64)).to(device)
    x_va, y_va = _as_tensor(val_x, device), torch.from_numpy(val_y.astype(np.int64)).to(device)
    best_state = [stack.state_dict(s) for s in range(n)]
    stopping = [EarlyStopping(cfg.patience, cfg.start_from_epoch) for _ in range(n)]
    stopped = [False] * n
    history: list[list[dict]] = [[] for _ in range(n)]
    progress = Progress(f"stacked classifier epoch ({n} seeds)", cfg.max_epochs, every_s=0)
    for epoch in range(1, cfg.max_epochs + 1):
        running, correct = train_stacked_epoch(step, x_tr, y_tr, cfg.batch_size, gens, cfg.augment)
        val = _val_losses(stack, x_va, y_va, n, cfg.eval_batch_size, precision).tolist()
        train_loss, train_acc = (running / len(x_tr)).tolist(), (correct / len(x_tr)).tolist()
        for s in range(n):
            if stopped[s]:
                continue
            history[s].append(
                {"epoch": epoch, "train_loss": train_loss[s], "train_accuracy": train_acc[s], "val_loss": val[s]}
            )
            if stopping[s].update(epoch, val[s]):
                best_state[s] = stack.state_dict(s)
            if stopping[s].stop:
                stopped[s] = True
                log.info(
                    "seed %d: early stop at epoch %d; best epoch %d (val_loss %.4f)",
                    seeds[s],
                    epoch,
                    stopping[s].best_epoch,
                    stopping[s].best_loss,
                )
        progress.update(
            epoch,
            " ".join(f"s{seed}:{v:.4f}{'.' if stopped[s] else ''}" for s, (seed, v) in enumerate(zip(seeds, val))),
        )
        if all(stopped):
            break
    results = []
    for s in range(n):
        model = cfg.build().to(device)
        model.load_state_dict(best_state[s])
        hist = pd.DataFrame(history[s])
        hist["best"] = hist["epoch"] == stopping[s].best_epoch
        hist["precision"] = precision
        hist["compiled"] = False  # stacked seeds always train eagerly
        results.append((model.eval(), hist))
    return results


def train_seeds(
    train_x: np.ndarray,
    train_y: np.ndarray,
    val_x: np.ndarray,
    val_y: np.ndarray,
    cfg: ClassifierConfig,
    seeds: list[int],
    device: torch.device,
) -> list[tuple[torch.nn.Module, pd.DataFrame]]:
    """Every seed of one run in one process, (best model, history) per seed in the order of `seeds`.

    On CUDA the seeds train stacked (one small CNN leaves a GPU idle). Elsewhere they train one after another:
    a CPU is already busy with one CNN (stacked, the bench measured 0.29x), and each seed then gets exactly
    the model and history its own `train_classifier` job would give; what the job saves is the start-up (a
    Python process and its imports per seed)."""
    if device.type == "cuda":
        return train_classifiers_stacked(train_x, train_y, val_x, val_y, cfg, seeds, device)
    results, progress = [], Progress(f"seeds of this job ({len(seeds)})", len(seeds), every_s=0)
    for i, seed in enumerate(seeds):
        log.info("seed %d of %d (seed %d)", i + 1, len(seeds), seed)
        results.append(train_classifier(train_x, train_y, val_x, val_y, cfg, seed, device))
        progress.update(i + 1, f"seed {seed} done")  # the job's ETA, from the seeds it has trained
    return results
