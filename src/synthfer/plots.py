"""Figures: image grids, loss curves, accuracy vs ratio, confusion matrices."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from PIL import Image

from synthfer.arms import SYNTHETIC_ONLY

if TYPE_CHECKING:
    import matplotlib.pyplot as plt


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


def panel_order(test_sets: list[str], cross_test: list[str]) -> list[str]:
    """Cross-database sets first (the question's answer, in the config's order), then real_test, then
    in_distribution (the paper's test set, which generated test faces flatter)."""
    rank = {t: i for i, t in enumerate([*cross_test, "real_test", "in_distribution"])}
    return sorted(test_sets, key=lambda t: (rank.get(t, len(rank)), t))


CONTROL_LABELS = {
    "real-steps": "real only, the steps of k units",
    "real-augmented": "real + augmented copies, k units' worth",
}
SYN_X = -0.8
"""Where synthetic only (one generated unit, no real faces) sits on the k axis: apart, left of k = 0."""


def plot_accuracy_vs_ratio(
    summary: pd.DataFrame, path: str | os.PathLike, cross_test: list[str], metric: str = "accuracy"
) -> None:
    """One panel per test set: mean accuracy against k per translator with the tables' 95% t-interval over seeds
    as a band (drawn from metrics_summary.csv, so figure and tables agree), real only as a dashed line with its
    interval shaded, synthetic only as a cross with its interval left of k = 0, chance dotted; one legend."""
    matplotlib, plt, sns = _figures()
    mean, half = f"{metric}_mean", f"{metric}_ci95"
    test_sets = panel_order(list(summary["test_set"].unique()), cross_test)
    from synthfer.arms import control_arms, generated_arms

    controls = control_arms(set(summary["arm"]))
    translators = generated_arms(set(summary["arm"])) + controls  # controls last, dash-dotted
    palette = dict(zip(translators, sns.color_palette("colorblind", n_colors=max(3, len(translators)))))
    ncol = min(2, len(test_sets))
    nrow = -(-len(test_sets) // ncol)
    with plt.rc_context({"font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "legend.fontsize": 7.5}):
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.5 * ncol, 2.5 * nrow + 0.5), squeeze=False, sharey=True)
        handles: dict[str, object] = {}
        for ax, test_set in zip(axes.flat, test_sets):
            here = summary[summary["test_set"] == test_set]
            real = here[here["arm"] == "real"]
            if len(real):
                m, h = float(real[mean].iloc[0]), float(np.nan_to_num(real[half].iloc[0]))
                handles["real only (k = 0), 95% CI"] = ax.axhline(m, color="k", ls="--", lw=1)
                ax.axhspan(m - h, m + h, color="k", alpha=0.08, lw=0)
            ks: set[int] = {0}
            for n, translator in enumerate(translators):
                rows = here[here["arm"].isin([translator, "real"])]
                mixed = rows[rows["k"] != SYNTHETIC_ONLY].assign(x=lambda d: d["k"].astype(int)).sort_values("x")
                color = palette[translator]
                control = translator in controls
                (line,) = ax.plot(
                    mixed["x"],
                    mixed[mean],
                    marker="s" if control else "o",
                    ms=3.5,
                    color=color,
                    lw=1.3,
                    ls="-." if control else "-",
                )
                ax.fill_between(
                    mixed["x"],
                    mixed[mean] - mixed[half].fillna(0),
                    mixed[mean] + mixed[half].fillna(0),
                    color=color,
                    alpha=0.12 if control else 0.2,
                    lw=0,
                )
                handles[
                    f"{translator}: "
                    + (CONTROL_LABELS.get(translator, "control") if control else "real + k units")
                    + ", 95% CI"
                ] = line
                ks |= set(mixed["x"])
                syn = rows[rows["k"] == SYNTHETIC_ONLY]
                if len(syn):  # side by side around the "syn" tick, so that the intervals do not hide each other
                    offset = 0.12 * (n - (len(translators) - 1) / 2)
                    marker = ax.errorbar(
                        [SYN_X + offset], syn[mean], yerr=syn[half].fillna(0), fmt="x", color=color, capsize=3, ms=6
                    )
                    handles[f"{translator}: synthetic only, 95% CI"] = marker
            handles["chance (1/6)"] = ax.axhline(1 / 6, color="grey", ls=":", lw=1)
            ticks = sorted(ks)
            ax.set_xticks([SYN_X, *ticks], ["syn.\nonly", *map(str, ticks)])
            ax.set_xlim(SYN_X - 0.5, max(ticks) + 0.3)
            ax.set_title(test_set + (" (cross-database)" if test_set in cross_test else ""))
            ax.set_xlabel("k (units of generated faces added" + (", or their budget)" if controls else ")"))
            ax.set_ylabel(f"{metric}, mean over seeds" if ax in axes[:, 0] else "")
        for ax in list(axes.flat)[len(test_sets) :]:
            ax.set_visible(False)
        rows_of_legend = -(-len(handles) // 2)
        fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=2, frameon=False)
        fig.tight_layout(
            rect=(0, (0.15 * rows_of_legend + 0.05) / fig.get_figheight(), 1, 1)
        )  # room for the legend, in inches
        _atomic_savefig(fig, path)


def plot_per_class_metrics(
    summary: pd.DataFrame, models: pd.DataFrame, path: str | os.PathLike, emotions: list[str], cross_test: list[str]
) -> None:
    """The paper's per-class bars: rows = test sets (cross-database first), columns = precision / recall / F1, a bar
    per emotion and compared model (`models`: model, arm, k) at its mean over seeds, with the tables' 95%
    t-interval (from metrics_summary.csv); one legend."""
    matplotlib, plt, sns = _figures()
    rows = summary.assign(k=summary["k"].astype(str)).merge(models, on=["arm", "k"])
    test_sets = panel_order(list(rows["test_set"].unique()), cross_test)
    order = list(models["model"])
    colors = dict(zip(order, sns.color_palette("colorblind", n_colors=max(3, len(order)))))
    width = 0.8 / max(1, len(order))
    x = np.arange(len(emotions))
    with plt.rc_context({"font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7.5}):
        fig, axes = plt.subplots(
            len(test_sets), 3, figsize=(7.2, 1.9 * len(test_sets) + 0.5), squeeze=False, sharey=True
        )
        top = 1.0
        for i, test_set in enumerate(test_sets):
            for j, measure in enumerate(("precision", "recall", "f1")):
                ax = axes[i, j]
                for n, model in enumerate(order):
                    r = rows[(rows["test_set"] == test_set) & (rows["model"] == model)]
                    if not len(r):
                        continue
                    means = np.array([float(r[f"{measure}_{e}_mean"].iloc[0]) for e in emotions])
                    halves = np.nan_to_num(np.array([float(r[f"{measure}_{e}_ci95"].iloc[0]) for e in emotions]))
                    ax.bar(
                        x + (n - (len(order) - 1) / 2) * width,
                        means,
                        width,
                        yerr=halves,
                        color=colors[model],
                        label=model,
                        capsize=1.5,
                        error_kw={"lw": 0.7},
                    )
                    top = max(top, float(np.nanmax(means + halves)))
                ax.set_title(f"{test_set}: {measure}")
                ax.set_xticks(x, [e[:4] for e in emotions])
                ax.set_ylabel("mean, 95% CI over seeds" if j == 0 else "")
        for ax in axes.flat:
            ax.set_ylim(0, min(top, 1.5) * 1.02)  # intervals past 1 are drawn, not clipped
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(order)), frameon=False)
        fig.tight_layout(rect=(0, 0.06 + 0.02 * (len(order) > 4), 1, 1))
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
    blank = np.full(faces.images.shape[1:], 255, dtype=np.uint8)  # an emotion (neutral) the generator did not make
    images = np.stack([faces.images[index[(s, e)]] if (s, e) in index else blank for s in subjects for e in DOMAINS])
    images = torch.from_numpy(images).unsqueeze(1)
    fig, ax = plt.subplots(figsize=(1.0 * len(DOMAINS) + 0.5, 1.0 * len(subjects) + 0.6))
    grid = make_grid(images.float() / 255.0, nrow=len(DOMAINS), padding=2, pad_value=1.0)[0].numpy()
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
    side = faces.images.shape[-1] + 2
    ax.set_xticks([side * (i + 0.5) for i in range(len(DOMAINS))], DOMAINS, rotation=30, fontsize=8)
    ax.set_yticks([side * (i + 0.5) for i in range(len(subjects))], [s.split("/")[-1] for s in subjects], fontsize=7)
    ax.set_title("generated identities (rows) x emotions (columns)", fontsize=9)
    _atomic_savefig(fig, path)


def save_closest_pairs(
    generated: np.ndarray,
    training: np.ndarray,
    pairs: list[tuple[int, int, float]],
    threshold: float,
    path: str | os.PathLike,
) -> None:
    """The generated faces nearest to a GAN-training face (top row) above that training face (bottom row), each
    pair titled with its distance; a pair below the near-copy threshold is titled in red."""
    matplotlib, plt, sns = _figures()
    n = max(len(pairs), 1)
    fig, axes = plt.subplots(2, n, figsize=(1.2 * n + 0.4, 3.0), squeeze=False)
    for column, (g, t, distance) in enumerate(pairs):
        for row, image in enumerate((generated[g], training[t])):
            ax = axes[row][column]
            ax.imshow(image, cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0][column].set_title(f"{distance:.2f}", fontsize=8, color="red" if distance < threshold else "black")
    for column in range(len(pairs), n):
        for row in range(2):
            axes[row][column].axis("off")
    axes[0][0].set_ylabel("generated", fontsize=8)
    axes[1][0].set_ylabel("nearest\nGAN-training", fontsize=8)
    fig.suptitle(f"closest pairs (pixel distance; near-copy below {threshold:.2f})", fontsize=9)
    _atomic_savefig(fig, path)
