"""Bind every job of a workflow's DAG to its step, as synthfer.seam does when the job runs, without running any.

Usage: python bind_every_job.py SNAKEFILE CONFIGFILE WORKDIR. Prints one JSON object: {"jobs": {rule: count},
"errors": [...]}. Uses Snakemake's workflow object to build the DAG (internal, but it is what `--dag` uses).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace

from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, DAGSettings, ResourceSettings

from synthfer.codemap import code_map, own_files
from synthfer.codemap import step_of as codemap_step_of
from synthfer.seam import bind


def step_of(script: Path):
    """The step a rule script hands to run_step (synthfer.codemap finds its name)."""
    module, function = codemap_step_of(script)
    return getattr(importlib.import_module(module), function)


def main(snakefile: str, configfile: str, workdir: str) -> None:
    counts: dict[str, int] = {}
    errors: list[str] = []
    with SnakemakeApi() as api:
        workflow_api = api.workflow(
            snakefile=Path(snakefile),
            workdir=Path(workdir),
            config_settings=ConfigSettings(configfiles=[Path(configfile)]),
            resource_settings=ResourceSettings(cores=2),
        )
        dag_api = workflow_api.dag(DAGSettings(forceall=True))
        workflow = dag_api.workflow_api._workflow
        workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True, nolock=True)
        workflow._build_dag()
        scripts = Path(workflow.basedir) / "scripts"
        code = code_map(Path(workflow.basedir).parent / "src", scripts)
        for job in workflow.dag.jobs:
            if job.rule.script is None:
                continue
            counts[job.rule.name] = counts.get(job.rule.name, 0) + 1
            script = Path(job.rule.basedir.get_path_or_uri(secret_free=True)) / job.rule.script
            view = SimpleNamespace(
                input=job.input,
                output=job.output,
                params=job.params,
                wildcards=job.wildcards,
                log=job.log,
                threads=job.threads,
            )
            declared = sorted(str(Path(f).resolve()) for f in job.input.get("code", []))
            # the design check lists its own files only (workflow/rules/data.smk); fetch_dataset none
            expected = own_files(code, script.stem) if job.rule.name == "check_design" else code[script.stem]
            if job.rule.name != "fetch_dataset" and declared != sorted(str(Path(f).resolve()) for f in expected):
                errors.append(f"{job.rule.name}: its code input is not code_map's {script.stem!r} entry")
            try:
                bind(step_of(script), view)
            except Exception as error:  # every mismatch, not only the first
                errors.append(f"{job.rule.name}: {type(error).__name__}: {error}")
    print(json.dumps({"jobs": counts, "errors": errors}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
