"""The profiles cover every rule that asks for a GPU: a GPU rule missing from the SLURM profile would be sent
to the CPU partition with a GPU request, which a real cluster refuses or queues forever."""

from __future__ import annotations

import re
from pathlib import Path

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


def test_every_gpu_rule_has_a_gpu_partition_and_matching_threads_in_the_slurm_profile():
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    default_partition = profile["default-resources"]["slurm_partition"]
    for rule in sorted(gpu_rules()):
        resources = profile["set-resources"].get(rule)
        assert resources is not None, f"{rule} asks for a GPU but has no set-resources entry"
        assert resources["slurm_partition"] != default_partition, rule
        assert profile["set-threads"][rule] == resources["cpus_per_task"], rule
