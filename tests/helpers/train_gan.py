"""Train a tiny GAN in its own process (so a test can kill it) and save the final weights.

usage: python train_gan.py {stargan|identity} WORK_DIR OUT.pt
"""

import sys

import numpy as np
import torch

from synthfer.logs import setup_logging
from synthfer.train.identity_gan import IdentityGANConfig, train_identity_gan
from synthfer.train.stargan import StarGANConfig, train_stargan

kind, work, out = sys.argv[1:4]
torch.set_num_threads(1)
setup_logging()  # to stderr, which the test reads
rng = np.random.default_rng(0)
images = rng.integers(0, 256, size=(40, 16, 16), dtype=np.uint8)
if kind == "stargan":
    cfg = StarGANConfig(image_size=16, conv_dim=8, d_conv_dim=8, g_repeat=1, d_repeat=3, iterations=300, batch_size=4, n_critic=2,
                        ema_decay=0.9, log_every=10, sample_every=1000, checkpoint_every=25)
    model, losses = train_stargan(images, np.arange(40) % 7, cfg, torch.device("cpu"), work)
else:
    cfg = IdentityGANConfig(image_size=16, z_dim=8, width=8, iterations=300, batch_size=8, log_every=10, sample_every=1000, checkpoint_every=25)
    model, losses = train_identity_gan(images, cfg, torch.device("cpu"), work)
torch.save({"weights": model.state_dict(), "losses": torch.tensor(losses.drop(columns="iteration").to_numpy())}, out)
