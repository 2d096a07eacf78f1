"""Early stopping replayed from a finished run's validation losses: what another `patience` or `start_from_epoch`
would have trained and kept, and how much time it would have saved, without training anything again.

The replay is exact for a setting that stops a run no later than the run stopped: the epochs before the stop do
not depend on when it comes (each seed draws the same batches and dropout masks either way, stacked seeds
included), so the recorded validation losses are the ones the shorter run would have seen, and the epoch it
would have kept is the best of them. A setting that would train a run past its recorded end cannot be replayed
for that run; it is counted, never guessed. The replay runs the training loop's own `EarlyStopping`.

Why a tool: a shorter patience is the obvious way to make a study cheaper, and its cost is not the same for
every arm. Arms whose epochs are short (real faces only) still improve when arms with long epochs (k units of
generated faces added) have converged, so a cut in epochs can leave the baseline undertrained and inflate every
gain over it. This table shows that per arm before anyone changes the protocol.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from synthfer.config import classifier_config
from synthfer.train.classifier import EarlyStopping

RUN_DIR = re.compile(r"k(?P<k>[^/]+)/seed(?P<seed>\d+)$")


@dataclass(frozen=True)
class Stop:
    """Where early stopping ends one run: the last epoch trained and the epoch whose weights are kept."""

    epoch: int
    kept_epoch: int
    kept_val_loss: float


def replay(val_losses: Sequence[float], patience: int, start_from_epoch: int, max_epochs: int) -> Stop | None:
    """The stop of a run with these validation losses under these settings, as the training loop decides it;
    None when the run would train past the losses recorded (and before `max_epochs`)."""
    stopping = EarlyStopping(patience, start_from_epoch)
    for epoch, loss in enumerate(val_losses, 1):
        stopping.update(epoch, float(loss))
        if stopping.stop or epoch >= max_epochs:
            return Stop(epoch, stopping.best_epoch, stopping.best_loss)
    return None


def read_histories(results: str | Path) -> pd.DataFrame:
    """Every classifier history under results/classify/<arm>/k<k>/seed<s>/history.csv, one row per epoch with
    its arm, k and seed."""
    found = sorted(Path(results, "classify").glob("*/k*/seed*/history.csv"))
    if not found:
        raise FileNotFoundError(
            f"no classifier histories under {Path(results, 'classify')}/<arm>/k<k>/seed<s>/history.csv: "
            "point at the results/ folder of a finished run"
        )
    frames = []
    for path in found:
        match = RUN_DIR.search(path.parent.as_posix())
        if match is None:
            continue
        frame = pd.read_csv(path, usecols=["epoch", "val_loss"])
        frames.append(frame.assign(arm=path.parents[2].name, k=match["k"], seed=int(match["seed"])))
    return pd.concat(frames, ignore_index=True)


def job_seconds(results: str | Path) -> dict[tuple[str, str], float]:
    """Seconds each training job took (Snakemake's benchmark files): {(arm, k): seconds}, the seeds of one
    (arm, k) summed when each had its own job."""
    seconds: dict[tuple[str, str], float] = {}
    for path in Path(results, "benchmarks", "train_classifier").glob("*.tsv"):
        match = re.fullmatch(r"(?P<arm>.+)_k(?P<k>[^_]+)_(stacked|seed\d+)", path.stem)
        if match is None:
            continue
        table = pd.read_csv(path, sep="\t")
        key = (match["arm"], match["k"])
        seconds[key] = seconds.get(key, 0.0) + float(table["s"].iloc[-1])
    return seconds


def run_config(results: str | Path) -> dict:
    """The configuration the run was made with, as its report recorded it (results/report/provenance.json)."""
    path = Path(results, "report", "provenance.json")
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: the replay needs the settings the runs trained with; run the workflow to its report"
        )
    return json.loads(path.read_text())["config"]


def what_if(results: str | Path, settings: Sequence[tuple[int, int]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replay every classifier run of a finished study under each (patience, start_from_epoch) in `settings`.

    Returns (per_setting, per_arm): per setting, the epochs and job seconds it would have taken as a share of
    what the run took, the runs whose kept epoch would change and the runs it cannot replay; per setting and arm,
    the mean kept epoch, the mean kept epoch as run, and how much higher the kept validation loss would be (means
    over the seeds replayed, the as-run value subtracted). Job seconds are the run's own (benchmarks), spread
    over epochs in proportion (job start and evaluation included); an (arm, k) without a benchmark counts
    epochs only. Seeds stacked on a GPU train until the last of them stops, so there a job's time follows its
    longest seed, and the seconds are a rough estimate.
    """
    bad = [f"patience {p}" for p, _ in settings if p < 1] + [f"start_from_epoch {s}" for _, s in settings if s < 0]
    if bad:
        raise ValueError(f"{', '.join(bad)}: patience must be at least 1 and start_from_epoch at least 0")
    config = run_config(results)
    history = read_histories(results)
    seconds = job_seconds(results)
    per_run, unmatched = [], []
    for (arm, k, seed), run in history.groupby(["arm", "k", "seed"], sort=True):
        cfg = classifier_config(config, k, arm)
        losses = run.sort_values("epoch")["val_loss"].to_numpy()
        as_run = replay(losses, cfg.patience, cfg.start_from_epoch, cfg.max_epochs)
        if as_run is None or as_run.epoch != len(losses):
            unmatched.append(f"{arm} k{k} seed{seed}")
            continue
        per_run.append((arm, k, seed, losses, as_run, cfg.max_epochs))
    if unmatched:
        raise ValueError(
            f"{len(unmatched)} histories do not end where the recorded settings stop them ({', '.join(unmatched[:5])}"
            f"{', ...' if len(unmatched) > 5 else ''}): they were not made with results/report/provenance.json's "
            "classifier settings; rerun the report, or replay a results/ folder of one run"
        )
    epochs_of = {(arm, k): 0 for arm, k, *_ in per_run}
    for arm, k, _, losses, *_ in per_run:
        epochs_of[(arm, k)] += len(losses)
    seconds_per_epoch = {key: seconds[key] / n for key, n in epochs_of.items() if key in seconds and n}

    rows, arm_rows = [], []
    for patience, start in settings:
        epochs = base_epochs = secs = base_secs = 0.0
        changed = unreplayable = 0
        by_arm: dict[tuple[str, str], list[tuple[int, float, int]]] = {}
        for arm, k, _, losses, as_run, max_epochs in per_run:
            stop = replay(losses, patience, start, max_epochs)
            if stop is None:
                unreplayable += 1
                continue
            epochs, base_epochs = epochs + stop.epoch, base_epochs + len(losses)
            rate = seconds_per_epoch.get((arm, k), 0.0)
            secs, base_secs = secs + stop.epoch * rate, base_secs + len(losses) * rate
            changed += stop.kept_epoch != as_run.kept_epoch
            by_arm.setdefault((arm, k), []).append(
                (stop.kept_epoch, stop.kept_val_loss - as_run.kept_val_loss, as_run.kept_epoch)
            )
        replayed = len(per_run) - unreplayable
        rows.append(
            {
                "patience": patience,
                "start_from_epoch": start,
                "runs": len(per_run),
                "replayed": replayed,
                "epochs_share": epochs / base_epochs if base_epochs else float("nan"),
                "seconds_saved": base_secs - secs,
                "kept_epoch_changed": changed,
            }
        )
        for (arm, k), kept in sorted(by_arm.items()):
            arm_rows.append(
                {
                    "patience": patience,
                    "start_from_epoch": start,
                    "arm": arm,
                    "k": k,
                    "seeds": len(kept),
                    "kept_epoch": sum(e for e, _, _ in kept) / len(kept),
                    "val_loss_increase": sum(d for _, d, _ in kept) / len(kept),
                    "kept_epoch_as_run": sum(e for _, _, e in kept) / len(kept),
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(arm_rows)


def _ratio_order(key: tuple[str, str]) -> tuple[bool, int, str]:
    arm, k = key
    return (not k.isdigit(), int(k) if k.isdigit() else 0, arm)


def markdown(per_setting: pd.DataFrame, per_arm: pd.DataFrame) -> str:
    """The two tables for a reader: per setting, then each arm's kept epoch and validation-loss increase."""
    lines = [
        "| patience | start_from_epoch | runs replayed | epochs (share of as run) | job seconds saved | kept epoch changed |",
        "|---|---|---|---|---|---|",
    ]
    for row in per_setting.itertuples():
        lines.append(
            f"| {row.patience} | {row.start_from_epoch} | {row.replayed} of {row.runs} | {row.epochs_share:.0%} | "
            f"{row.seconds_saved:,.0f} | {row.kept_epoch_changed} |"
        )
    settings = list(dict.fromkeys(zip(per_arm["patience"], per_arm["start_from_epoch"])))
    cells = {
        (r.arm, r.k, r.patience, r.start_from_epoch): f"{r.kept_epoch:.0f} / {r.val_loss_increase:+.3f}"
        for r in per_arm.itertuples()
    }
    lines += [
        "",
        "Per arm (mean over seeds): the epoch whose weights are kept / how much higher its validation loss is than "
        "the kept epoch's of the run as made.",
        "",
        "| arm | k | kept epoch as run | " + " | ".join(f"patience {p}, from epoch {s}" for p, s in settings) + " |",
        "|---|---|---|" + "---|" * len(settings),
    ]
    most_seeds = per_arm.sort_values("seeds", kind="stable").groupby(["arm", "k"]).tail(1)
    as_run = most_seeds.set_index(["arm", "k"])["kept_epoch_as_run"]
    for arm, k in sorted({(r.arm, r.k) for r in per_arm.itertuples()}, key=_ratio_order):
        lines.append(
            f"| {arm} | {k} | {as_run[(arm, k)]:.0f} | "
            + " | ".join(cells.get((arm, k, p, s), "n/a") for p, s in settings)
            + " |"
        )
    return "\n".join(lines) + "\n"
