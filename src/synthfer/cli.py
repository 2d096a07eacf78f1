"""`synthfer`: use what the study made, outside the workflow.

synthfer predict MODEL IMAGES... [--out CSV]    classify photos with a trained classifier
synthfer export STORE DIR                        a face store as an ImageFolder tree + faces.csv
synthfer import-stargan CKPT [--out FILE]        an original StarGAN generator as this workflow's translator
synthfer stopping RESULTS [--patience N...]      a finished run's early stopping replayed under other settings
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _predict(args: argparse.Namespace) -> int:
    from synthfer.io import atomic_write_csv
    from synthfer.predict import native_noise_filtered, predict_images

    if args.out:
        _writable(Path(args.out))
    with native_noise_filtered():  # the face detector's start-up notices stay out of the terminal
        table = predict_images(args.model, args.images, device=args.device, aligned=args.aligned, threads=args.threads)
    if args.out:
        atomic_write_csv(table, args.out)
    else:
        table.to_csv(sys.stdout, index=False)
    usable = (table["reason"] == "").sum()
    far = int(table["far_from_training"].eq(True).sum())
    if far:
        print(
            f"warning: {far} of {usable} classified photos are far from the model's training faces (feature distance "
            f"above what {100 * table.attrs['familiar']['quantile']:.0f}% of its validation faces reach, column "
            "far_from_training): the model has not seen faces like them, so treat their predictions with caution",
            file=sys.stderr,
        )
    elif usable and not table.attrs.get("familiar"):
        print(
            "note: this model file records nothing of its training faces (an older synthfer): no check of how far "
            "the photos are from them",
            file=sys.stderr,
        )
    print(
        f"{usable} of {len(table)} files classified"
        + (f"; {len(table) - usable} with a reason in the 'reason' column" if usable < len(table) else "")
        + (f"; written to {args.out}" if args.out else ""),
        file=sys.stderr,
    )
    return 0


def _writable(out: Path) -> None:
    """Refuse, before any work, an output whose folder cannot exist: a file stands where a folder of it must be."""
    if out.is_dir():
        raise ValueError(f"--out {out}: is a folder; give a file name (e.g. {out / 'predictions.csv'})")
    for folder in out.parents:
        if folder.exists():
            if not folder.is_dir():
                raise ValueError(f"--out {out}: {folder} is a file, so no folder {out.parent} can hold the output")
            if not os.access(folder, os.W_OK | os.X_OK):
                raise ValueError(f"--out {out}: {folder} is not writable")
            return


def _export(args: argparse.Namespace) -> int:
    from synthfer.export import export_store

    table = export_store(args.store, args.dir, one_tree=args.one_tree)
    counts = ", ".join(f"{e} {n}" for e, n in table["emotion"].value_counts().sort_index().items())
    trees = sorted({file.split("/")[0] for file in table["file"] if file.count("/") == 2})
    where = ", ".join(f"{args.dir}/{t}/<emotion>/" for t in trees) if trees else f"{args.dir}/<emotion>/"
    mixed = " (train, val and test identities together, as --one-tree asked)" if args.one_tree else ""
    print(
        f"{len(table)} faces written to {where}{mixed} ({counts}); their table: {Path(args.dir) / 'faces.csv'}",
        file=sys.stderr,
    )
    return 0


def _import_stargan(args: argparse.Namespace) -> int:
    from synthfer.data.real_loaders import CLASS_SYNONYMS
    from synthfer.stargan_import import import_stargan

    drop = tuple(d.strip().lower() for d in (args.drop or "").split(",") if d.strip())
    domains = None
    if args.domains:
        names = [d.strip().lower() for d in args.domains.split(",") if d.strip()]
        unknown = [n for n in names if n not in CLASS_SYNONYMS and n not in drop]
        if unknown:
            raise ValueError(
                f"--domains: {', '.join(unknown)} not an emotion; use {', '.join(sorted(CLASS_SYNONYMS))}, or drop "
                f"a domain this workflow has no class for with --drop {unknown[0]}"
            )
        domains = [n if n in drop else CLASS_SYNONYMS[n] for n in names]
    found = import_stargan(args.checkpoint, args.out, domains, args.image_size, drop)
    dropped = f", dropped: {', '.join(found['dropped'])}" if found["dropped"] else ""
    print(
        f"StarGAN generator (conv_dim {found['conv_dim']}, {found['residual_blocks']} residual blocks, domains "
        f"{', '.join(found['domains'])}{dropped}) written to {args.out}; use it with `stargan_model: {args.out}` in "
        "the config",
        file=sys.stderr,
    )
    return 0


def _stopping(args: argparse.Namespace) -> int:
    from synthfer.io import atomic_write_csv
    from synthfer.stopping import markdown, run_config, what_if

    starts = args.start_from_epoch or [run_config(args.results)["classifier"].get("start_from_epoch", 0)]
    settings = [(patience, start) for start in starts for patience in args.patience]
    per_setting, per_arm = what_if(args.results, settings)
    print(markdown(per_setting, per_arm), end="")
    if args.out:
        atomic_write_csv(per_arm.merge(per_setting, on=["patience", "start_from_epoch"]), args.out)
        print(f"written to {args.out}", file=sys.stderr)
    return 0


def _version() -> str:
    from synthfer.provenance import synthfer_version

    return synthfer_version()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="synthfer",
        description=(
            "Use what the synthfer workflow made: classify photos, export face sets, import a StarGAN, "
            "replay early stopping."
        ),
    )
    top.add_argument("--version", action="version", version=f"synthfer {_version()}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    predict = commands.add_parser(
        "predict",
        help="classify photos with a trained classifier",
        description=(
            "Detect the face in each photo, align it exactly as the model's training faces were (the model file "
            "carries the alignment, image size and scaling) and classify it. Folders are searched recursively. "
            "Files that cannot be used get their reason in the 'reason' column."
        ),
    )
    predict.add_argument("model", help="a classifier file: results/classify/<arm>/k<k>/seed<s>/model.pt")
    predict.add_argument("images", nargs="+", help="image files and/or folders of images")
    predict.add_argument("--out", help="CSV to write (default: standard output)")
    predict.add_argument(
        "--aligned",
        action="store_true",
        help="the photos are already cropped, eye-aligned faces (as FER2013's): resize only, no detection",
    )
    predict.add_argument(
        "--device", default="auto", choices=["auto", "cuda", "cpu"], help="where the model runs (default: auto)"
    )
    predict.add_argument("--threads", type=int, default=1, help="processes for detection and alignment (default: 1)")
    predict.set_defaults(run=_predict)

    export = commands.add_parser(
        "export",
        help="a face store as an ImageFolder tree plus faces.csv",
        description=(
            "Write a face store (results/faces/<dataset>, results/real, results/generated/<translator>/gan_run<r>/unit<u>, "
            "results/selected/...) as DIR/<emotion>/<n>_<identity>.png and DIR/faces.csv (file, emotion, identity, "
            "split, source and where each face came from). DIR must be new or empty."
        ),
    )
    export.add_argument("store", help="a face store folder (faces.npz + faces.csv)")
    export.add_argument("dir", help="the folder to create")
    export.add_argument(
        "--one-tree",
        action="store_true",
        help="all faces in one <emotion>/ tree even when the store has train/val/test splits (default: one tree "
        "per split, so that a tree you train on holds no test identity)",
    )
    export.set_defaults(run=_export)

    stargan = commands.add_parser(
        "import-stargan",
        help="an original StarGAN generator checkpoint as this workflow's translator",
        description=(
            "Convert a generator checkpoint written by the original StarGAN code (e.g. 200000-G.ckpt, a state dict) "
            "into this workflow's generator file, loaded safely (weights only). Set `stargan_model:` in the config "
            "to that file and the workflow generates with it instead of training a StarGAN."
        ),
    )
    stargan.add_argument("checkpoint", help="the original code's <iteration>-G.ckpt")
    stargan.add_argument("--out", default="imported_stargan.pt", help="generator file to write (default: %(default)s)")
    stargan.add_argument(
        "--domains",
        help="the checkpoint's domains in its label order, comma-separated (default: the sorted folder names "
        "as ImageFolder ordered them: anger, disgust, fear, happiness, neutral, sadness, surprise)",
    )
    stargan.add_argument(
        "--drop",
        help="domains of the checkpoint this workflow has no class for, comma-separated, left out (e.g. RaFD's "
        "contemptuous, with --c_dim 8)",
    )
    stargan.add_argument("--image-size", type=int, default=64, help="the face size it was trained at (default: 64)")
    stargan.set_defaults(run=_import_stargan)

    stopping = commands.add_parser(
        "stopping",
        help="a finished run's early stopping replayed under other patience settings",
        description=(
            "Replay the early stopping of every classifier run under results/classify/ with other `patience` and "
            "`start_from_epoch` values, from the validation losses the runs recorded: the epochs and job seconds "
            "each setting would have saved, the runs whose kept epoch would change, and per arm how much higher "
            "the kept validation loss would be. Exact for settings that stop no later than the runs did; runs a "
            "setting would train longer than they were trained are counted as not replayed."
        ),
    )
    stopping.add_argument("results", help="the results/ folder of a finished run (with report/provenance.json)")
    stopping.add_argument(
        "--patience", nargs="+", type=int, default=[5, 6, 7, 8], help="patience values (default: %(default)s)"
    )
    stopping.add_argument(
        "--start-from-epoch",
        nargs="+",
        type=int,
        help="start_from_epoch values (default: the run's classifier.start_from_epoch)",
    )
    stopping.add_argument("--out", help="also write the per-arm table with each setting's totals as CSV")
    stopping.set_defaults(run=_stopping)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (OSError, ValueError, KeyError, RuntimeError) as error:  # a user's mistake: one line, no traceback
        print(f"synthfer {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
