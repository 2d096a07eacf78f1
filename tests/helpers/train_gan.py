"""Train a tiny GAN in its own process (so a test can kill it) and save the final weights.

usage: python train_gan.py {stargan|identity|stylegan|ecyclegan} WORK_DIR OUT.pt
"""

import sys

import numpy as np
import torch

from synthfer.logs import setup_logging
from synthfer.train.cyclegan import CycleGANConfig, train_cyclegan
from synthfer.train.identity_gan import IdentityGANConfig, train_identity_gan
from synthfer.train.stargan import StarGANConfig, train_stargan

kind, work, out = sys.argv[1:4]
torch.set_num_threads(1)
setup_logging()  # to stderr, which the test reads
rng = np.random.default_rng(0)
images = rng.integers(0, 256, size=(40, 16, 16), dtype=np.uint8)
if kind == "stargan":
    cfg = StarGANConfig(
        image_size=16,
        conv_dim=8,
        d_conv_dim=8,
        g_repeat=1,
        d_repeat=3,
        iterations=150,
        batch_size=4,
        n_critic=2,
        ema_decay=0.9,
        log_every=10,
        sample_every=1000,
        checkpoint_every=25,
    )
    model, losses = train_stargan(images, np.arange(40) % 7, cfg, torch.device("cpu"), work)
elif kind == "ecyclegan":  # every stateful part: image pools, instance noise, label flips, alternate steps
    cfg = CycleGANConfig(
        image_size=16,
        variant="ecyclegan",
        ngf=4,
        ndf=4,
        blocks=1,
        sub_blocks=2,
        d_layers=2,
        cycle_loss="perceptual",
        vgg_weights="random",
        vgg_layers=4,
        pool_size=6,
        label_flip=0.2,
        instance_noise=0.1,
        g_per_d=2,
        iterations=120,
        batch_size=4,
        log_every=10,
        sample_every=1000,
        checkpoint_every=15,
    )
    model, losses = train_cyclegan(images[:20], images[20:], cfg, torch.device("cpu"), work)
elif kind == "stylegan":  # mapping network, noise inputs, R1, EMA, the running mean of w
    cfg = IdentityGANConfig(
        image_size=16,
        architecture="stylegan",
        z_dim=8,
        w_dim=8,
        mapping_layers=2,
        width=4,
        iterations=150,
        batch_size=4,
        r1_gamma=1.0,
        ema_decay=0.9,
        log_every=10,
        sample_every=1000,
        checkpoint_every=20,
    )
    model, losses = train_identity_gan(images, cfg, torch.device("cpu"), work)
else:
    cfg = IdentityGANConfig(
        image_size=16,
        z_dim=8,
        width=8,
        iterations=150,
        batch_size=8,
        log_every=10,
        sample_every=1000,
        checkpoint_every=25,
    )
    model, losses = train_identity_gan(images, cfg, torch.device("cpu"), work)
torch.save({"weights": model.state_dict(), "losses": torch.tensor(losses.drop(columns="iteration").to_numpy())}, out)
