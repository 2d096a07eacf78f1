"""The profiles cover every rule that asks for a GPU: a GPU rule missing from the SLURM profile would be sent
to the CPU partition with a GPU request, which a real cluster refuses or queues forever."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def gpu_rules() -> set[str]:
    """Rules whose `resources:` ask for gpu, read from the rule files."""
    found = set()
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        blocks = re.split(r"^\s*rule (\w+):", smk.read_text(), flags=re.M)
        for name, body in zip(blocks[1::2], blocks[2::2]):
            if re.search(r"^\s*gpu\s*=\s*1", body, flags=re.M):
                found.add(name)
    return found


def test_the_rule_files_are_read():
    assert {"train_stargan", "train_classifier", "cross_validate_minority"} <= gpu_rules()
    assert "write_summary" not in gpu_rules()


SLURM_PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"


def test_every_gpu_rule_has_the_gpu_partition_and_matching_threads_in_the_slurm_profile():
    profile = yaml.safe_load(SLURM_PROFILE.read_text())
    gpu_partition = profile["set-resources"]["train_stargan"]["slurm_partition"]
    assert "slurm_partition" not in profile["default-resources"]  # CPU jobs: the cluster's default partition
    for rule in sorted(gpu_rules()):
        resources = profile["set-resources"].get(rule)
        assert resources is not None, f"{rule} asks for a GPU but has no set-resources entry"
        assert resources["slurm_partition"] == gpu_partition, rule
        assert profile["set-threads"][rule] == resources["cpus_per_task"], rule


def test_the_slurm_profile_works_unedited_or_names_one_line_to_edit():
    """No placeholder account (it defeats the plugin's own account detection) and the GPU partition named once."""
    text = SLURM_PROFILE.read_text()
    settings = [line.split("#")[0] for line in text.splitlines()]
    assert not any("slurm_account" in line for line in settings), (
        "an account in the profile overrides the plugin's detection"
    )
    assert sum("slurm_partition" in line for line in settings) == 1
    assert "my_account" not in text


def test_gan_jobs_get_a_warning_signal_and_tiny_jobs_stay_off_the_queue():
    profile = yaml.safe_load(SLURM_PROFILE.read_text())
    for rule in ("train_stargan", "train_identity_gan", "train_cyclegan"):
        assert re.search(r"--signal=USR1@\d+", profile["set-resources"][rule]["slurm_extra"]), rule
    assert {"train_classifier=classify", "evaluate_classifier=classify"} <= set(profile["groups"])
    local = set()
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        blocks = re.split(r"^\s*rule (\w+):", smk.read_text(), flags=re.M)
        local |= {
            name
            for name, body in zip(blocks[1::2], blocks[2::2])
            if re.search(r"^\s*localrule: True", body, flags=re.M)
        }
    assert {
        "aggregate_metrics",
        "plot_accuracy_vs_ratio",
        "plot_per_class_metrics",
        "plot_confusion_matrices",
        "plot_samples",
        "write_summary",
        "summarize_minority",
    } <= local
    assert not local & gpu_rules()


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_a_retry_never_asks_more_than_the_partition_allows(attempt):
    from synthfer.cluster import MAX_RUNTIME, runtime_minutes

    assert runtime_minutes("gan", 24 * 60, attempt) == MAX_RUNTIME["gan"] == 1440  # resumes: the same limit again
    assert runtime_minutes("gan", 24 * 60, attempt, {"gan": 720}) == 720
    assert runtime_minutes("classifier", 120, attempt) == min(120 * attempt, MAX_RUNTIME["classifier"])
    assert runtime_minutes("classifier", 120, attempt, {"classifier": 200}) == min(120 * attempt, 200)


def test_the_rules_ask_their_runtime_through_the_cap():
    """Every rule with a runtime takes it from runtime(family, base), so max_runtime caps all of them."""
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for line in smk.read_text().splitlines():
            if re.match(r"\s*runtime\s*=", line):
                assert re.match(r'\s*runtime=runtime\("(\w+)", ', line), (smk.name, line)
