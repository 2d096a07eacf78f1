"""Figures: image grids, loss curves, accuracy vs ratio, confusion matrices."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402


def _atomic_savefig(fig: plt.Figure, path: str | os.PathLike) -> None:
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
    if losses.empty:
        return
    long = losses.melt(id_vars="iteration", var_name="loss", value_name="value").dropna()
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.lineplot(data=long, x="iteration", y="value", hue="loss", ax=ax)
    ax.set_title(title)
    _atomic_savefig(fig, path)


def plot_accuracy_vs_ratio(metrics: pd.DataFrame, path: str | os.PathLike, metric: str = "accuracy") -> None:
    """Accuracy against k per test set: mean over seeds with a 95% CI band; synthetic-only as markers."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    mixed = metrics[metrics["k"] != "syn"].assign(k=lambda d: d["k"].astype(int))
    sns.lineplot(data=mixed, x="k", y=metric, hue="test_set", marker="o", errorbar=("ci", 95), ax=ax)
    syn = metrics[metrics["k"] == "syn"]
    if len(syn):
        means = syn.groupby("test_set")[metric].agg(["mean", "std"]).reset_index()
        palette = dict(zip(mixed["test_set"].unique(), sns.color_palette()))
        for _, row in means.iterrows():
            ax.errorbar([-0.4], [row["mean"]], yerr=[0 if np.isnan(row["std"]) else row["std"]], fmt="x", color=palette.get(row["test_set"], "k"), capsize=3)
        ax.annotate("synthetic only (x, ±sd)", (-0.4, ax.get_ylim()[0]), fontsize=8, xytext=(2, 4), textcoords="offset points")
    ax.set_xlabel("k (units of generated faces added to the real training set)")
    ax.set_ylabel(f"{metric} (mean, 95% CI over seeds)")
    ax.axhline(1 / 6, color="grey", ls=":", lw=1)
    _atomic_savefig(fig, path)


def plot_confusion(matrix: np.ndarray, labels: list[str], path: str | os.PathLike, title: str) -> None:
    """Counts as a seaborn heatmap, rows = true class."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    sns.heatmap(matrix, annot=True, fmt="d", cmap="Blues", xticklabels=labels, yticklabels=labels, cbar=False, ax=ax)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    _atomic_savefig(fig, path)


def save_sample_grid(faces, identities: int, path: str | os.PathLike) -> None:
    """Rows = the first `identities` generated identities, columns = neutral source then the 6 emotions."""
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
