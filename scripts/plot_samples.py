"""Rule plot_samples: generated faces, one row per identity, one column per emotion (neutral source first)."""

from synthfer.data.store import read_face_set
from synthfer.logs import run_logged
from synthfer.plots import save_sample_grid

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    lambda: save_sample_grid(read_face_set(sm.input.images, sm.input.table), sm.params.identities, sm.output[0]),
)
