"""Training the identity source on neutral faces: a DCGAN or a StyleGAN2-style generator.

Both use the non-saturating logistic loss. The StyleGAN-style one adds what makes it work: an R1 penalty
on real faces (`r1_gamma`), an exponential moving average of the generator for sampling (`ema_decay`), and
the running mean of w for the truncation trick (`truncation` at sampling time).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from synthfer.checkpoint import load_model, save_model
from synthfer.models import identity_gan as dcgan  # noqa: F401 - the DCGAN this loop may train (built by IdentityGANConfig): part of its code for synthfer.codemap
from synthfer.models.stylegan import StyleIdentityGenerator
from synthfer.plots import save_image_grid, save_loss_plot
from synthfer.runtime import autocast, seed_everything
from synthfer.settings import IDENTITY_GAN_ARCHITECTURES, IdentityGANConfig  # noqa: F401 - re-exported
from synthfer.tensors import from_signed, to_signed
from synthfer.train.ema import EMA
from synthfer.train.gan_state import GANState, train_loop
from synthfer.train.graphs import adam_for
from synthfer.train.resume import Checkpointer, data_fingerprint, run_key

ARCHITECTURES = IDENTITY_GAN_ARCHITECTURES


def _generate(G: torch.nn.Module, z: torch.Tensor, truncation: float) -> torch.Tensor:
    return G(z, truncation) if isinstance(G, StyleIdentityGenerator) else G(z)


def sample_identities(G: torch.nn.Module, n: int, seed: int, batch: int = 256, truncation: float = 1.0) -> torch.Tensor:
    """n new neutral faces as uint8 (n, 1, S, S); the same seed gives the same people. `truncation` < 1
    (StyleGAN-style only) trades diversity for typical faces."""
    if n < 1:
        raise ValueError(f"need at least one identity, got n={n}")
    device = next(G.parameters()).device
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed))
    noise_gen = torch.Generator().manual_seed(seed + 1)
    G.eval()
    out = []
    with torch.no_grad(), autocast(device):
        for i in range(0, n, batch):
            if isinstance(G, StyleIdentityGenerator):  # noise inputs drawn from the seed too: same seed, same faces
                torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=noise_gen)))
            out.append(from_signed(_generate(G, z[i : i + batch].to(device), truncation).float()).cpu())
    return torch.cat(out)


def identity_gan_state(cfg: IdentityGANConfig, device: torch.device) -> GANState:
    """Fresh networks, optimisers and EMA (over buffers too: the mean w), seeded by `cfg.seed`."""
    gen = seed_everything(cfg.seed, device)
    G = cfg.build_generator().to(device)
    D = cfg.build_discriminator().to(device)
    return GANState(
        gen,
        device,
        G=G,
        D=D,
        ema=EMA(G, cfg.ema_decay, use_buffers=True) if cfg.ema_decay > 0 else None,
        g_opt=adam_for(G.parameters(), cfg.lr, device, betas=(cfg.beta1, cfg.beta2)),
        d_opt=adam_for(D.parameters(), cfg.lr, device, betas=(cfg.beta1, cfg.beta2)),
    )


def train_identity_gan(
    images: np.ndarray, cfg: IdentityGANConfig, device: torch.device, work_dir: str | os.PathLike
) -> tuple[torch.nn.Module, pd.DataFrame]:
    """Train on uint8 neutral faces (N, S, S); sample grids and a loss plot go to work_dir."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    state = identity_gan_state(cfg, device)
    x_all = torch.from_numpy(images).unsqueeze(1).to(device)
    fixed_z = torch.randn(32, cfg.z_dim, generator=state.random, device=state.random.device)

    def sample(state: GANState) -> None:
        sampler = state.ema.module if state.ema is not None else state.G
        sampler.eval()
        with torch.no_grad():
            save_image_grid(
                from_signed(_generate(sampler, fixed_z, cfg.truncation).float()).cpu(),
                work / f"samples_{state.iteration:07d}.png",
                ncol=8,
            )
        sampler.train()
        save_loss_plot(pd.DataFrame(state.rows), work / "losses.png", "identity GAN losses")

    train_loop(
        state,
        lambda state: identity_step(state, draw_batch(x_all, cfg.batch_size, state.random), cfg),
        cfg,
        Checkpointer(work, cfg.checkpoint_every, run_key(cfg, data_fingerprint(images))),
        "identity-gan iteration",
        sample,
    )
    final = state.ema.module if state.ema is not None else state.G
    return final.eval(), pd.DataFrame(state.rows)


def r1_penalty(real_logit: torch.Tensor, x_real: torch.Tensor) -> torch.Tensor:
    """R1: the squared gradient norm of D on real faces, averaged over the batch (Mescheder et al. 2018)."""
    grad = torch.autograd.grad(real_logit.sum(), x_real, create_graph=True)[0]
    return grad.pow(2).flatten(1).sum(1).mean()


def draw_batch(x_all: torch.Tensor, batch_size: int, gen: torch.Generator) -> torch.Tensor:
    """Real faces in [-1, 1], drawn by index and flipped at random on the training device."""
    idx = torch.randint(0, len(x_all), (batch_size,), generator=gen, device=gen.device)
    x_real = to_signed(x_all[idx])
    flip = torch.rand(len(idx), generator=gen, device=gen.device) < 0.5
    return torch.where(flip[:, None, None, None], x_real.flip(3), x_real)


def identity_step(state: GANState, x_real: torch.Tensor, cfg: IdentityGANConfig) -> dict[str, torch.Tensor]:
    """One discriminator step (non-saturating loss, R1 when asked) and one generator step, then the EMA and
    the mean w. Returns the losses to log, as tensors (read back only when logged). On a GPU the two updates are
    replayed as one CUDA graph (state.graphs); the EMA follows it."""
    losses = state.graphs("step", lambda x: _update(state, x, cfg), x_real)
    if state.ema is not None:
        state.ema.update_parameters(state.G)
    return losses


def _update(state: GANState, x_real: torch.Tensor, cfg: IdentityGANConfig) -> dict[str, torch.Tensor]:
    """The discriminator's step, the generator's, and the mean w."""
    G, D, g_opt, d_opt, device, gen = state.G, state.D, state.g_opt, state.d_opt, state.device, state.random
    z = torch.randn(cfg.batch_size, cfg.z_dim, generator=gen, device=gen.device)
    r1 = cfg.r1_gamma > 0
    if r1:
        x_real.requires_grad_(True)
    with autocast(device, cfg.precision):  # auto: bf16 where the device has bf16 units
        x_fake = G(z)
        real_logit = D(x_real).float()
        fake_logit = D(x_fake.detach()).float()
        d_loss = F.softplus(-real_logit).mean() + F.softplus(fake_logit).mean()
    d_r1 = r1_penalty(real_logit, x_real) if r1 else torch.zeros((), device=device)
    d_loss = d_loss + 0.5 * cfg.r1_gamma * d_r1
    d_opt.zero_grad(set_to_none=True)
    d_loss.backward()
    d_opt.step()
    with autocast(device, cfg.precision):  # auto: bf16 where the device has bf16 units
        g_loss = F.softplus(-D(x_fake).float()).mean()  # non-saturating
    g_opt.zero_grad(set_to_none=True)
    g_loss.backward()
    g_opt.step()
    if isinstance(G, StyleIdentityGenerator):
        with torch.no_grad():
            G.w_avg.lerp_(G.map(z).float().mean(0), 1 - cfg.w_avg_beta)
    return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "r1": d_r1.detach()}


def save_identity_gan(G: torch.nn.Module, cfg: IdentityGANConfig, path: str | os.PathLike) -> None:
    save_model(G, cfg, path)


def load_identity_gan(path: str | os.PathLike, device: torch.device) -> tuple[torch.nn.Module, IdentityGANConfig]:
    return load_model(path, IdentityGANConfig, IdentityGANConfig.build_generator, device)
