"""StarGAN training: WGAN-GP adversarial loss, domain classification and cycle reconstruction.

As in the original code: Adam with betas (0.5, 0.999), the generator updated once every `n_critic`
discriminator steps, learning rates decayed linearly to zero from `decay_start`. The whole training set
sits in memory as one tensor; batches are drawn by index.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from synthfer.checkpoint import load_torch, save_model
from synthfer.labels import DOMAINS
from synthfer.models.stargan import Generator
from synthfer.plots import save_image_grid, save_loss_plot
from synthfer.runtime import autocast, seed_everything
from synthfer.settings import StarGANConfig  # noqa: F401 - re-exported
from synthfer.tensors import from_signed, to_signed
from synthfer.train.ema import EMA
from synthfer.train.gan_state import GANState, train_loop
from synthfer.train.graphs import adam_for, set_lr
from synthfer.train.penalties import gradient_penalty
from synthfer.train.resume import Checkpointer, data_fingerprint, run_key

log = logging.getLogger("synthfer")


def _one_hot(labels: torch.Tensor, n: int) -> torch.Tensor:
    """Domain codes. Not `F.one_hot`: it checks the labels' range by reading them back, a GPU sync per call."""
    return (labels.unsqueeze(-1) == torch.arange(n, device=labels.device)).float()


def _lr_factor(cfg: StarGANConfig, it: int) -> float:
    start = int(cfg.decay_start * cfg.iterations)
    if it < start:
        return 1.0
    return max(0.0, 1.0 - (it - start) / max(1, cfg.iterations - start))


def translate(generator: torch.nn.Module, images: torch.Tensor, domain: int, batch: int = 256) -> torch.Tensor:
    """Translate uint8 faces (N, 1, S, S) into one domain; returns uint8, same shape."""
    device = next(generator.parameters()).device
    out = []
    generator.eval()
    with torch.no_grad(), autocast(device):
        for i in range(0, len(images), batch):
            x = to_signed(images[i : i + batch].to(device))
            c = _one_hot(torch.full((len(x),), domain, device=device), len(DOMAINS))
            y = generator(x, c).float()
            out.append(from_signed(y).cpu())
    return torch.cat(out)


class StarGANBatch(NamedTuple):
    """One batch: real faces in [-1, 1] (flipped at random), their domains and the domains to translate into."""

    x_real: torch.Tensor
    label_org: torch.Tensor
    label_trg: torch.Tensor


def stargan_state(cfg: StarGANConfig, device: torch.device) -> GANState:
    """Fresh networks, optimisers (Adam, the original code's betas) and EMA, seeded by `cfg.seed`."""
    gen = seed_everything(cfg.seed, device)
    G, D = cfg.build_generator().to(device), cfg.build_discriminator().to(device)
    return GANState(
        gen,
        device,
        G=G,
        D=D,
        g_opt=adam_for(G.parameters(), cfg.g_lr, device, betas=(cfg.beta1, cfg.beta2)),
        d_opt=adam_for(D.parameters(), cfg.d_lr, device, betas=(cfg.beta1, cfg.beta2)),
        ema=EMA(G, cfg.ema_decay) if cfg.ema_decay > 0 else None,
    )


def draw_batch(x_all: torch.Tensor, y_all: torch.Tensor, batch_size: int, gen: torch.Generator) -> StarGANBatch:
    """A batch drawn by index from the set in memory, on the training device: nothing waits for the host."""
    idx = torch.randint(0, len(x_all), (batch_size,), generator=gen, device=gen.device)
    x_real = to_signed(x_all[idx])
    flip = torch.rand(len(idx), generator=gen, device=gen.device) < 0.5
    x_real = torch.where(flip[:, None, None, None], x_real.flip(3), x_real)
    label_org = y_all[idx]
    return StarGANBatch(x_real, label_org, label_org[torch.randperm(len(idx), generator=gen, device=gen.device)])


def train_stargan(
    images: np.ndarray,
    domains: np.ndarray,
    cfg: StarGANConfig,
    device: torch.device,
    work_dir: str | os.PathLike,
) -> tuple[Generator, pd.DataFrame]:
    """Train on uint8 faces (N, S, S) labelled with domain indices; sample grids and checkpoints go to
    work_dir, and a run started again on the same settings and data resumes from its last checkpoint."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    state = stargan_state(cfg, device)
    x_all = torch.from_numpy(images).unsqueeze(1).to(device)
    y_all = torch.from_numpy(domains.astype(np.int64)).to(device)
    # fixed inputs for sample grids: one face of each domain when possible
    fixed_idx = [int(np.flatnonzero(domains == d)[0]) for d in range(len(DOMAINS)) if (domains == d).any()][:8]
    fixed = x_all[fixed_idx]

    def sample(state: GANState) -> None:
        sampler = state.ema.module if state.ema is not None else state.G
        _save_samples(sampler, fixed, work / f"samples_{state.iteration:07d}.png")
        save_loss_plot(pd.DataFrame(state.rows), work / "losses.png", "StarGAN losses")
        sampler.train()

    train_loop(
        state,
        lambda state: stargan_step(state, draw_batch(x_all, y_all, cfg.batch_size, state.random), cfg),
        cfg,
        Checkpointer(work, cfg.checkpoint_every, run_key(cfg, data_fingerprint(images, domains))),
        "stargan iteration",
        sample,
    )
    final = state.ema.module if state.ema is not None else state.G
    final.eval()
    return final, pd.DataFrame(state.rows)


def stargan_step(
    state: GANState, batch: StarGANBatch, cfg: StarGANConfig, precision: str | None = None
) -> dict[str, torch.Tensor]:
    """One discriminator step (and every n_critic-th a generator step), then the lr decay, under `precision`
    (default cfg.precision; `auto`: bf16 where the device has bf16 units; the bench's naive reference asks for
    fp32). Returns the losses
    to log, as tensors: random draws come from the state's generator on the training device and nothing is read
    back here, so on a GPU nothing in between waits for the device. On a GPU the two updates are replayed as CUDA
    graphs (state.graphs); the EMA and the learning rates are set between them."""
    precision = precision or cfg.precision
    losses = state.graphs("d", lambda *b: _d_update(state, StarGANBatch(*b), cfg, precision), *batch)
    if state.iteration % cfg.n_critic == 0:
        state.last.update(state.graphs("g", lambda *b: _g_update(state, StarGANBatch(*b), cfg, precision), *batch))
        if state.ema is not None:
            state.ema.update_parameters(state.G)
    factor = _lr_factor(cfg, state.iteration)
    set_lr(state.g_opt, cfg.g_lr * factor)
    set_lr(state.d_opt, cfg.d_lr * factor)
    return {**losses, **state.last}


def _d_update(state: GANState, batch: StarGANBatch, cfg: StarGANConfig, precision: str) -> dict[str, torch.Tensor]:
    """The discriminator: real scores up, fake scores down, domain of real faces, gradient penalty."""
    G, D, d_opt, device, gen = state.G, state.D, state.d_opt, state.device, state.random
    x_real, label_org, label_trg = batch
    c_trg = _one_hot(label_trg, cfg.c_dim)
    with autocast(device, precision):
        out_src, out_cls = D(x_real)
        d_real = -out_src.float().mean()
        d_cls = F.cross_entropy(out_cls.float(), label_org)
        with torch.no_grad():
            x_fake = G(x_real, c_trg).float()
        d_fake = D(x_fake)[0].float().mean()
    alpha = torch.rand(len(x_real), 1, 1, 1, generator=gen, device=gen.device)
    x_hat = (alpha * x_real + (1 - alpha) * x_fake).requires_grad_(True)
    d_gp = gradient_penalty(D(x_hat)[0], x_hat)
    d_loss = d_real + d_fake + cfg.lambda_cls * d_cls + cfg.lambda_gp * d_gp
    d_opt.zero_grad(set_to_none=True)
    d_loss.backward()
    d_opt.step()
    return {"d_real": d_real.detach(), "d_fake": d_fake.detach(), "d_cls": d_cls.detach(), "d_gp": d_gp.detach()}


def _g_update(state: GANState, batch: StarGANBatch, cfg: StarGANConfig, precision: str) -> dict[str, torch.Tensor]:
    """The generator: fool D, land in the target domain, come back to the source face."""
    G, D, g_opt, device = state.G, state.D, state.g_opt, state.device
    x_real, label_org, label_trg = batch
    c_org, c_trg = _one_hot(label_org, cfg.c_dim), _one_hot(label_trg, cfg.c_dim)
    with autocast(device, precision):
        x_fake = G(x_real, c_trg)
        out_src, out_cls = D(x_fake)
        g_fake = -out_src.float().mean()
        g_cls = F.cross_entropy(out_cls.float(), label_trg)
        x_rec = G(x_fake, c_org)
        g_rec = (x_real - x_rec.float()).abs().mean()
    g_loss = g_fake + cfg.lambda_rec * g_rec + cfg.lambda_cls * g_cls
    g_opt.zero_grad(set_to_none=True)
    g_loss.backward()
    g_opt.step()
    return {"g_fake": g_fake.detach(), "g_cls": g_cls.detach(), "g_rec": g_rec.detach()}


def _save_samples(G: torch.nn.Module, fixed: torch.Tensor, path: Path) -> None:
    """Grid: each row one input face, then that face translated into every domain."""
    columns = [fixed.cpu()] + [translate(G, fixed, d) for d in range(len(DOMAINS))]
    grid = torch.stack(columns, dim=1).flatten(0, 1)
    save_image_grid(grid, path, ncol=len(columns))


def save_stargan(G: Generator, cfg: StarGANConfig, path: str | os.PathLike) -> None:
    save_model(G, cfg, path)


def load_stargan(path: str | os.PathLike, device: torch.device) -> tuple[Generator, StarGANConfig]:
    """A generator file of this workflow, trained (train_stargan) or imported (`synthfer import-stargan`, whose
    file records `out_channels: 3`)."""
    ckpt = load_torch(path)  # read once: the file says whether the network is an imported RGB one
    cfg = StarGANConfig(**ckpt["config"])
    generator = Generator(cfg.conv_dim, cfg.c_dim, cfg.g_repeat, out_channels=int(ckpt.get("out_channels", 1)))
    generator.load_state_dict(ckpt["model"])
    return generator.to(device).eval(), cfg
