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
from synthfer.logs import Progress
from synthfer.models.stylegan import StyleIdentityGenerator
from synthfer.plots import save_image_grid, save_loss_plot
from synthfer.runtime import autocast, seed_everything
from synthfer.settings import IDENTITY_GAN_ARCHITECTURES, IdentityGANConfig  # noqa: F401 - re-exported
from synthfer.tensors import from_signed, to_signed
from synthfer.train.ema import EMA
from synthfer.train.resume import Checkpointer, data_fingerprint, random_state, restore_random_state, run_key

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


def train_identity_gan(
    images: np.ndarray, cfg: IdentityGANConfig, device: torch.device, work_dir: str | os.PathLike
) -> tuple[torch.nn.Module, pd.DataFrame]:
    """Train on uint8 neutral faces (N, S, S); sample grids and a loss plot go to work_dir."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    gen = seed_everything(cfg.seed, device)
    x_all = torch.from_numpy(images).unsqueeze(1).to(device)
    G = cfg.build_generator().to(device)
    D = cfg.build_discriminator().to(device)
    ema = EMA(G, cfg.ema_decay, use_buffers=True) if cfg.ema_decay > 0 else None
    g_opt = torch.optim.Adam(G.parameters(), cfg.lr, betas=(cfg.beta1, cfg.beta2))
    d_opt = torch.optim.Adam(D.parameters(), cfg.lr, betas=(cfg.beta1, cfg.beta2))
    fixed_z = torch.randn(32, cfg.z_dim, generator=gen, device=gen.device)
    rows: list[dict[str, float]] = []
    checkpointer = Checkpointer(work, cfg.checkpoint_every, run_key(cfg, data_fingerprint(images)))
    start = 1
    state = checkpointer.load()
    if state is not None:
        for obj, name in ((G, "G"), (D, "D"), (g_opt, "g_opt"), (d_opt, "d_opt")):
            obj.load_state_dict(state[name])
        if ema is not None:
            ema.load_state_dict(state["ema"])
        rows = [dict(r) for r in state["rows"]]
        restore_random_state(gen, state["random"])
        start = state["iteration"] + 1
    progress = Progress("identity-gan iteration", cfg.iterations, start=start - 1)
    with checkpointer:
        for it in range(start, cfg.iterations + 1):
            _identity_iteration(it, G, D, g_opt, d_opt, ema, x_all, gen, cfg, device, rows, progress, fixed_z, work)
            if checkpointer.due(it, cfg.iterations):
                state = {
                    "G": G.state_dict(),
                    "D": D.state_dict(),
                    "g_opt": g_opt.state_dict(),
                    "d_opt": d_opt.state_dict(),
                    "rows": rows,
                    "random": random_state(gen),
                }
                if ema is not None:
                    state["ema"] = ema.state_dict()
                checkpointer.save(it, state)
    checkpointer.clear()
    final = ema.module if ema is not None else G
    return final.eval(), pd.DataFrame(rows)


def r1_penalty(real_logit: torch.Tensor, x_real: torch.Tensor) -> torch.Tensor:
    """R1: the squared gradient norm of D on real faces, averaged over the batch (Mescheder et al. 2018)."""
    grad = torch.autograd.grad(real_logit.sum(), x_real, create_graph=True)[0]
    return grad.pow(2).flatten(1).sum(1).mean()


def _identity_iteration(
    it: int,
    G: torch.nn.Module,
    D: torch.nn.Module,
    g_opt: torch.optim.Optimizer,
    d_opt: torch.optim.Optimizer,
    ema: EMA | None,
    x_all: torch.Tensor,
    gen: torch.Generator,
    cfg: IdentityGANConfig,
    device: torch.device,
    rows: list[dict[str, float]],
    progress: Progress,
    fixed_z: torch.Tensor,
    work: Path,
) -> None:
    """One discriminator step (non-saturating loss, R1 when asked) and one generator step, then the EMA and
    the mean w, logging and samples."""
    idx = torch.randint(0, len(x_all), (cfg.batch_size,), generator=gen, device=gen.device)
    x_real = to_signed(x_all[idx])
    flip = torch.rand(len(idx), generator=gen, device=gen.device) < 0.5
    x_real = torch.where(flip[:, None, None, None], x_real.flip(3), x_real)
    z = torch.randn(cfg.batch_size, cfg.z_dim, generator=gen, device=gen.device)
    r1 = cfg.r1_gamma > 0
    if r1:
        x_real.requires_grad_(True)
    with autocast(device):
        x_fake = G(z)
        real_logit = D(x_real).float()
        fake_logit = D(x_fake.detach()).float()
        d_loss = F.softplus(-real_logit).mean() + F.softplus(fake_logit).mean()
    d_r1 = r1_penalty(real_logit, x_real) if r1 else torch.zeros((), device=device)
    d_loss = d_loss + 0.5 * cfg.r1_gamma * d_r1
    d_opt.zero_grad(set_to_none=True)
    d_loss.backward()
    d_opt.step()
    with autocast(device):
        g_loss = F.softplus(-D(x_fake).float()).mean()  # non-saturating
    g_opt.zero_grad(set_to_none=True)
    g_loss.backward()
    g_opt.step()
    if isinstance(G, StyleIdentityGenerator):
        with torch.no_grad():
            G.w_avg.lerp_(G.map(z).float().mean(0), 1 - cfg.w_avg_beta)
    if ema is not None:
        ema.update_parameters(G)
    if it % cfg.log_every == 0 or it == cfg.iterations:
        rows.append({"iteration": it, "d_loss": d_loss.item(), "g_loss": g_loss.item(), "r1": d_r1.item()})
        progress.update(it, f"d_loss={d_loss.item():.3f} g_loss={g_loss.item():.3f} r1={d_r1.item():.3f}")
    if it % cfg.sample_every == 0 or it == cfg.iterations:
        sampler = ema.module if ema is not None else G
        sampler.eval()
        with torch.no_grad():
            save_image_grid(
                from_signed(_generate(sampler, fixed_z, cfg.truncation).float()).cpu(),
                work / f"samples_{it:07d}.png",
                ncol=8,
            )
        sampler.train()
        save_loss_plot(pd.DataFrame(rows), work / "losses.png", "identity GAN losses")


def save_identity_gan(G: torch.nn.Module, cfg: IdentityGANConfig, path: str | os.PathLike) -> None:
    save_model(G, cfg, path)


def load_identity_gan(path: str | os.PathLike, device: torch.device) -> tuple[torch.nn.Module, IdentityGANConfig]:
    return load_model(path, IdentityGANConfig, IdentityGANConfig.build_generator, device)
