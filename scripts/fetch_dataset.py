"""Rule fetch_dataset: download (resumable, sha256-checked) or take a local archive, and unpack it safely."""

from synthfer.data.acquire import UnpackLimits, acquire
from synthfer.logs import run_logged

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    acquire,
    sm.wildcards.dataset,
    sm.output[0],
    url=sm.params.url,
    sha256=sm.params.sha256,
    archive=sm.params.archive,
    limits=UnpackLimits(**sm.params.limits),
)
