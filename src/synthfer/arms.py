"""The arms of study 1, by name: what a classifier run trains on, and the controls that isolate what
generated faces add.

One vocabulary for the rules, the config check, the steps and the report (the results' column `arm`).
Imports nothing heavy: the workflow parses it.

- `real`: real faces only, k = 0; every comparison's baseline.
- a baseline architecture (`vgg16`): real faces only, another network.
- a translator (`stargan`, `cyclegan`, `ecyclegan`): real + k units of its generated faces.
- `<translator>-selected`: only the generated faces the real-only classifiers confirm (`selection:`).
- `<translator>-selected-balanced`: the selected faces resampled to the unselected units' class counts, so
  that selection changes which faces, not how many of each emotion (`controls.balanced_selection`).
- `real-steps`: real faces only, each epoch as long as real + k units, so that it takes as many gradient
  steps as arm k: a gain of k over it is not a gain from more optimisation (`controls.step_matched`).
- `real-augmented`: real + as many classically augmented copies of real faces (flip, affine, brightness and
  contrast) as k units hold: does a GAN beat augmentation at the same budget (`controls.augmented`)?
- study 2's `real-oversampled`: the fold's own real faces of the target emotion repeated to the same n as
  the translated ones: new faces, or just more labels of that class (`controls.oversampled`)?
"""

from __future__ import annotations

from synthfer.settings import CLASSIFIER_ARCHITECTURES, PAPER_CNN

REAL_ONLY = "real"
BASELINE_ARCHITECTURES = tuple(a for a in CLASSIFIER_ARCHITECTURES if a != PAPER_CNN)  # from settings: one list
SELECTED_SUFFIX = "-selected"
BALANCED_SUFFIX = "-balanced"
STEP_MATCHED = "real-steps"
AUGMENTED = "real-augmented"
CONTROLS = (STEP_MATCHED, AUGMENTED)
"""Real-only arms run at every k >= 1 of the grid, with the budget of arm k."""
OVERSAMPLED = "real-oversampled"
"""Study 2's control: a `minority` setting beside the translators."""

CONTROL_SWITCHES = {"step_matched": STEP_MATCHED, "augmented": AUGMENTED}
"""config `controls.<switch>` -> the study-1 control arm it adds."""

# The ratio k, as the wildcard, the results' `k` column and the report write it: "0" (real only), "1", "2", ...
# (real + that many generated units) and "syn" (one unit of generated faces alone, no real ones).
REAL_K = "0"
SYNTHETIC_ONLY = "syn"


def gan_run_of_seed(position: int, gan_runs: int) -> int:
    """The GAN run whose faces the seed at `position` of `experiment.seeds` trains on: seeds dealt out over the
    runs in turn, so every run gets seeds and their counts differ by at most one."""
    return position % max(gan_runs, 1)


def units_of(k: str | int) -> int:
    """Generated units a run of ratio k trains with (or, for a control, takes as its budget)."""
    return 1 if str(k) == SYNTHETIC_ONLY else int(k)


def is_mixed(k: str | int) -> bool:
    """Real plus generated faces: k >= 1, not real only, not synthetic only."""
    return str(k) not in (REAL_K, SYNTHETIC_ONLY)


def k_order(k: str | int) -> int:
    """Sort key of k: the ratios by value, then synthetic only."""
    return 10**6 if str(k) == SYNTHETIC_ONLY else int(k)


def selected(translator: str) -> str:
    return translator + SELECTED_SUFFIX


def balanced(translator: str) -> str:
    return translator + SELECTED_SUFFIX + BALANCED_SUFFIX


def kind(arm: str) -> str:
    """real | baseline | control | balanced | selected | translator."""
    if arm == REAL_ONLY:
        return "real"
    if arm in BASELINE_ARCHITECTURES:
        return "baseline"
    if arm in CONTROLS:
        return "control"
    if arm.endswith(SELECTED_SUFFIX + BALANCED_SUFFIX):
        return "balanced"
    if arm.endswith(SELECTED_SUFFIX):
        return "selected"
    return "translator"


def translator_of(arm: str) -> str | None:
    """The translator whose faces an arm trains on (None for real-only arms)."""
    if kind(arm) in ("real", "baseline", "control"):
        return None
    return arm.removesuffix(BALANCED_SUFFIX).removesuffix(SELECTED_SUFFIX)


def generated_arms(arms: list[str] | set[str]) -> list[str]:
    """The arms that train on generated faces, sorted: translators, their selected and balanced arms."""
    return sorted(a for a in arms if translator_of(a) is not None)


def control_arms(arms: list[str] | set[str]) -> list[str]:
    return [c for c in CONTROLS if c in set(arms)]


def run_arms(translators: list[str], selection: bool, balanced_selection: bool, controls: list[str]) -> list[str]:
    """Every arm that runs at k >= 1, in report order: translators, selected, balanced, then the controls."""
    arms = list(translators)
    if selection:
        arms += [selected(t) for t in translators]
        if balanced_selection:
            arms += [balanced(t) for t in translators]
    return arms + [c for c in CONTROLS if c in controls]
