"""Training the identity source: a DCGAN on neutral faces, non-saturating loss."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from synthfer.checkpoint import load_model, save_model
from synthfer.models.identity_gan import IdentityDiscriminator, IdentityGenerator
from synthfer.plots import save_image_grid, save_loss_plot
from synthfer.logs import Progress
from synthfer.runtime import autocast, seed_everything
from synthfer.train.resume import Checkpointer, data_fingerprint, random_state, restore_random_state, run_key
from synthfer.tensors import from_signed, to_signed


@dataclass(frozen=True)
class IdentityGANConfig:
    image_size: int = 64
    z_dim: int = 64
    width: int = 64
    iterations: int = 20_000
    batch_size: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    log_every: int = 100
    sample_every: int = 1000
    checkpoint_every: int = 1000  # also on SIGTERM / SIGUSR1; 0 = only on a signal
    seed: int = 0

    def build_generator(self) -> IdentityGenerator:
        return IdentityGenerator(self.image_size, self.z_dim, self.width)


def sample_identities(G: IdentityGenerator, n: int, seed: int, batch: int = 256) -> torch.Tensor:
    """n new neutral faces as uint8 (n, 1, S, S); the same seed gives the same people."""
    if n < 1:
        raise ValueError(f"need at least one identity, got n={n}")
    device = next(G.parameters()).device
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed))
    G.eval()
    out = []
    with torch.no_grad(), autocast(device):
        for i in range(0, n, batch):
            out.append(from_signed(G(z[i : i + batch].to(device))).cpu())
    return torch.cat(out)


def train_identity_gan(images: np.ndarray, cfg: IdentityGANConfig, device: torch.device, work_dir: str | os.PathLike) -> tuple[IdentityGenerator, pd.DataFrame]:
    """Train on uint8 neutral faces (N, S, S); sample grids and a loss plot go to work_dir."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    gen = seed_everything(cfg.seed)
    x_all = torch.from_numpy(images).unsqueeze(1).to(device)
    G = cfg.build_generator().to(device)
    D = IdentityDiscriminator(cfg.image_size, cfg.width).to(device)
    g_opt = torch.optim.Adam(G.parameters(), cfg.lr, betas=(cfg.beta1, cfg.beta2))
    d_opt = torch.optim.Adam(D.parameters(), cfg.lr, betas=(cfg.beta1, cfg.beta2))
    fixed_z = torch.randn(32, cfg.z_dim, generator=gen).to(device)
    rows: list[dict[str, float]] = []
    checkpointer = Checkpointer(work, cfg.checkpoint_every, run_key(cfg, data_fingerprint(images)))
    start = 1
    state = checkpointer.load()
    if state is not None:
        for obj, name in ((G, "G"), (D, "D"), (g_opt, "g_opt"), (d_opt, "d_opt")):
            obj.load_state_dict(state[name])
        rows = [dict(r) for r in state["rows"]]
        restore_random_state(gen, state["random"])
        start = state["iteration"] + 1
    progress = Progress("identity-gan iteration", cfg.iterations, start=start - 1)
    with checkpointer:
        for it in range(start, cfg.iterations + 1):
            _identity_iteration(it, G, D, g_opt, d_opt, x_all, gen, cfg, device, rows, progress, fixed_z, work)
            if checkpointer.due(it, cfg.iterations):
                checkpointer.save(it, {
                    "G": G.state_dict(), "D": D.state_dict(), "g_opt": g_opt.state_dict(), "d_opt": d_opt.state_dict(), "rows": rows, "random": random_state(gen),
                })
    checkpointer.clear()
    return G.eval(), pd.DataFrame(rows)


def _identity_iteration(
    it: int, G: IdentityGenerator, D: IdentityDiscriminator, g_opt: torch.optim.Optimizer, d_opt: torch.optim.Optimizer, x_all: torch.Tensor,
    gen: torch.Generator, cfg: IdentityGANConfig, device: torch.device, rows: list[dict[str, float]], progress: Progress, fixed_z: torch.Tensor, work: Path,
) -> None:
    """One discriminator and one generator step (non-saturating loss), then logging and samples."""
    idx = torch.randint(0, len(x_all), (cfg.batch_size,), generator=gen).to(device)
    x_real = to_signed(x_all[idx])
    flip = torch.rand(len(idx), generator=gen).to(device) < 0.5
    x_real = torch.where(flip[:, None, None, None], x_real.flip(3), x_real)
    z = torch.randn(cfg.batch_size, cfg.z_dim, generator=gen).to(device)
    with autocast(device):
        x_fake = G(z)
        real_logit = D(x_real).float()
        fake_logit = D(x_fake.detach()).float()
        d_loss = F.softplus(-real_logit).mean() + F.softplus(fake_logit).mean()
    d_opt.zero_grad(set_to_none=True)
    d_loss.backward()
    d_opt.step()
    with autocast(device):
        g_loss = F.softplus(-D(x_fake).float()).mean()  # non-saturating
    g_opt.zero_grad(set_to_none=True)
    g_loss.backward()
    g_opt.step()
    if it % cfg.log_every == 0 or it == cfg.iterations:
        rows.append({"iteration": it, "d_loss": d_loss.item(), "g_loss": g_loss.item()})
        progress.update(it, f"d_loss={d_loss.item():.3f} g_loss={g_loss.item():.3f}")
    if it % cfg.sample_every == 0 or it == cfg.iterations:
        G.eval()
        with torch.no_grad():
            save_image_grid(from_signed(G(fixed_z)).cpu(), work / f"samples_{it:07d}.png", ncol=8)
        G.train()
        save_loss_plot(pd.DataFrame(rows), work / "losses.png", "identity GAN losses")


def save_identity_gan(G: IdentityGenerator, cfg: IdentityGANConfig, path: str | os.PathLike) -> None:
    save_model(G, cfg, path)


def load_identity_gan(path: str | os.PathLike, device: torch.device) -> tuple[IdentityGenerator, IdentityGANConfig]:
    return load_model(path, IdentityGANConfig, IdentityGANConfig.build_generator, device)
