"""Rule train_identity_gan: the identity source, on the neutral GAN-training faces."""

from synthfer.logs import run_logged
from synthfer.steps.gan import train_identity_step
from synthfer.train.identity_gan import IdentityGANConfig

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    train_identity_step,
    sm.params.stores,
    IdentityGANConfig(**sm.params.identity_gan),
    sm.params.device,
    sm.output.model,
    sm.output.losses,
    sm.params.work_dir,
    gpus=getattr(sm.resources, "gpu", 0),
)
