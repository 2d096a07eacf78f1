"""Rule train_cyclegan: one Neutral -> emotion translator (CycleGAN or ECycleGAN) on the GAN-training faces."""

from synthfer.logs import run_logged
from synthfer.steps.gan import train_cyclegan_step
from synthfer.train.cyclegan import CycleGANConfig

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    train_cyclegan_step,
    sm.params.stores,
    CycleGANConfig(**sm.params.cyclegan),
    sm.params.device,
    sm.output.model,
    sm.output.losses,
    sm.params.work_dir,
    gpus=getattr(sm.resources, "gpu", 0),
)
