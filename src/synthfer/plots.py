"""Figures: image grids, loss curves, accuracy vs ratio, confusion matrices."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import torch
from PIL import Image


def _figures() -> tuple[ModuleType, ModuleType, ModuleType]:
    """matplotlib (headless), pyplot and seaborn, imported on first use: they cost about 3 s to import, and
    every Snakemake job parses the workflow, whose config module imports the trainers and so this one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    return matplotlib, plt, sns


def make_grid(*args, **kwargs) -> torch.Tensor:
    """torchvision's make_grid, imported on first use (torchvision pulls in torch._dynamo: ~2 s)."""
    from torchvision.utils import make_grid as grid

    return grid(*args, **kwargs)


def _atomic_savefig(fig: plt.Figure, path: str | os.PathLike) -> None:
    matplotlib, plt, sns = _figures()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=150, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)


def save_image_grid(images: torch.Tensor, path: str | os.PathLike, ncol: int, upscale: int = 2) -> None:
    """uint8 (N, 1, H, W) -> one PNG grid, `ncol` images per row."""
    grid = make_grid(images.float() / 255.0, nrow=ncol, padding=1, pad_value=1.0)
    arr = (grid[0].clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    img = Image.fromarray(arr)
    if upscale > 1:
        img = img.resize((img.width * upscale, img.height * upscale), Image.Resampling.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    img.save(tmp)
    os.replace(tmp, path)


def save_loss_plot(losses: pd.DataFrame, path: str | os.PathLike, title: str) -> None:
    """One line per loss column against the iteration."""
    matplotlib, plt, sns = _figures()
    if losses.empty:
        return
    long = losses.melt(id_vars="iteration", var_name="loss", value_name="value").dropna()
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.lineplot(data=long, x="iteration", y="value", hue="loss", ax=ax)
    ax.set_title(title)
    _atomic_savefig(fig, path)


def plot_accuracy_vs_ratio(metrics: pd.DataFrame, path: str | os.PathLike, metric: str = "accuracy") -> None:
    """One panel per test set: accuracy against k for each translator (mean over seeds, 95% CI band), the
    real-only mean as a dashed line, synthetic only as a marker with its sd left of k = 0."""
    matplotlib, plt, sns = _figures()
    test_sets = sorted(metrics["test_set"].unique())
    baselines = sorted(set(metrics["translator"]) & {"vgg16"})
    translators = sorted(set(metrics["translator"]) - {"real", *baselines}) or ["real"]
    palette = dict(zip(translators, sns.color_palette(n_colors=max(3, len(translators)))))
    ncol = min(3, len(test_sets))
    nrow = -(-len(test_sets) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.6 * nrow), squeeze=False, sharey=True)
    real = metrics[metrics["translator"] == "real"]
    for ax, test_set in zip(axes.flat, test_sets):
        here = metrics[metrics["test_set"] == test_set]
        for translator in translators:
            rows = here[here["translator"].isin([translator, "real"])]
            mixed = rows[rows["k"] != "syn"].assign(k=lambda d: d["k"].astype(int))
            sns.lineplot(data=mixed, x="k", y=metric, marker="o", errorbar=("ci", 95), color=palette[translator], label=translator, ax=ax)
            syn = rows.loc[rows["k"] == "syn", metric]
            if len(syn):
                ax.errorbar([-0.6], [syn.mean()], yerr=[0 if len(syn) < 2 else syn.std()], fmt="x", color=palette[translator], capsize=3)
        base = real.loc[real["test_set"] == test_set, metric]
        if len(base):
            ax.axhline(base.mean(), color="k", ls="--", lw=1, label="real only")
        ax.axhline(1 / 6, color="grey", ls=":", lw=1)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_title(test_set, fontsize=10)
        ax.set_xlabel("k (units of generated faces added)")
        ax.set_ylabel(f"{metric} (mean, 95% CI over seeds)")
        ax.legend(fontsize=7, title="x at left: synthetic only (±sd)", title_fontsize=7)
    for ax in list(axes.flat)[len(test_sets):]:
        ax.set_visible(False)
    fig.tight_layout()
    _atomic_savefig(fig, path)


def plot_per_class_metrics(metrics: pd.DataFrame, models: pd.DataFrame, path: str | os.PathLike, emotions: list[str]) -> None:
    """The paper's per-class bars: rows = test sets, columns = precision / recall / F1, bars per emotion for
    each compared model (`models`: model, translator, k), mean over seeds with a 95% CI."""
    matplotlib, plt, sns = _figures()
    rows = metrics.assign(k=metrics["k"].astype(str)).merge(models, on=["translator", "k"])
    long = rows.melt(id_vars=["model", "test_set", "seed"], value_vars=[f"{m}_{e}" for m in ("precision", "recall", "f1") for e in emotions], var_name="column", value_name="value")
    long[["measure", "emotion"]] = long["column"].str.split("_", n=1, expand=True)
    test_sets = sorted(long["test_set"].unique(), key=lambda t: (t == "real_test", t))
    order = list(models["model"])
    fig, axes = plt.subplots(len(test_sets), 3, figsize=(15, 3.2 * len(test_sets)), squeeze=False, sharey=True)
    for i, test_set in enumerate(test_sets):
        for j, measure in enumerate(("precision", "recall", "f1")):
            ax = axes[i, j]
            here = long[(long["test_set"] == test_set) & (long["measure"] == measure)]
            sns.barplot(data=here, x="emotion", y="value", hue="model", hue_order=order, order=emotions, errorbar=("ci", 95), ax=ax)
            ax.set_title(f"{test_set}: {measure}", fontsize=10)
            ax.set_xlabel("")
            ax.set_ylabel("mean, 95% CI over seeds" if j == 0 else "")
            ax.set_ylim(0, 1)
            ax.tick_params(axis="x", labelsize=8)
            if (i, j) != (0, 2):
                legend = ax.get_legend()
                if legend is not None:
                    legend.remove()
            else:
                ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    _atomic_savefig(fig, path)


def plot_confusion(matrix: np.ndarray, labels: list[str], path: str | os.PathLike, title: str) -> None:
    """Counts as a seaborn heatmap, rows = true class."""
    matplotlib, plt, sns = _figures()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    sns.heatmap(matrix, annot=True, fmt="d", cmap="Blues", xticklabels=labels, yticklabels=labels, cbar=False, ax=ax)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    _atomic_savefig(fig, path)


def save_sample_grid(faces, identities: int, path: str | os.PathLike) -> None:
    """Rows = the first `identities` generated identities, columns = neutral source then the 6 emotions."""
    matplotlib, plt, sns = _figures()
    from synthfer.labels import DOMAINS

    table = faces.table
    subjects = list(dict.fromkeys(table["subject"]))[:identities]
    index = {(s, e): i for i, (s, e) in enumerate(zip(table["subject"], table["emotion"]))}
    order = [index[(s, e)] for s in subjects for e in DOMAINS]
    images = torch.from_numpy(faces.images[order]).unsqueeze(1)
    fig, ax = plt.subplots(figsize=(1.0 * len(DOMAINS) + 0.5, 1.0 * len(subjects) + 0.6))
    grid = make_grid(images.float() / 255.0, nrow=len(DOMAINS), padding=2, pad_value=1.0)[0].numpy()
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
    side = faces.images.shape[-1] + 2
    ax.set_xticks([side * (i + 0.5) for i in range(len(DOMAINS))], DOMAINS, rotation=30, fontsize=8)
    ax.set_yticks([side * (i + 0.5) for i in range(len(subjects))], [s.split("/")[-1] for s in subjects], fontsize=7)
    ax.set_title("generated identities (rows) x emotions (columns)", fontsize=9)
    _atomic_savefig(fig, path)
