"""Rule train_stargan: the expression translator, on the GAN-training faces."""

from synthfer.logs import run_logged
from synthfer.steps.gan import train_stargan_step
from synthfer.train.stargan import StarGANConfig

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    train_stargan_step,
    sm.params.stores,
    StarGANConfig(**sm.params.stargan),
    sm.params.device,
    sm.output.model,
    sm.output.losses,
    sm.params.work_dir,
    gpus=getattr(sm.resources, "gpu", 0),
)
