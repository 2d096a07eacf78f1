"""StarGAN training: WGAN-GP adversarial loss, domain classification and cycle reconstruction.

As in the original code: Adam with betas (0.5, 0.999), the generator updated once every `n_critic`
discriminator steps, learning rates decayed linearly to zero from `decay_start`. The whole training set
sits in memory as one tensor; batches are drawn by index.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from synthfer.checkpoint import load_torch, save_model
from synthfer.labels import DOMAINS
from synthfer.logs import Progress
from synthfer.models.stargan import Discriminator, Generator
from synthfer.plots import save_image_grid, save_loss_plot
from synthfer.runtime import autocast, seed_everything
from synthfer.settings import StarGANConfig  # noqa: F401 - re-exported
from synthfer.tensors import from_signed, to_signed
from synthfer.train.ema import EMA
from synthfer.train.resume import Checkpointer, data_fingerprint, random_state, restore_random_state, run_key

log = logging.getLogger("synthfer")


def gradient_penalty(d_out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """WGAN-GP term: (||dD/dx||_2 - 1)^2, averaged over the batch."""
    grad = torch.autograd.grad(d_out, x, grad_outputs=torch.ones_like(d_out), create_graph=True)[0]
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


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
    gen = seed_everything(cfg.seed, device)
    x_all = torch.from_numpy(images).unsqueeze(1).to(device)
    y_all = torch.from_numpy(domains.astype(np.int64)).to(device)
    G, D = cfg.build_generator().to(device), cfg.build_discriminator().to(device)
    g_opt = torch.optim.Adam(G.parameters(), cfg.g_lr, betas=(cfg.beta1, cfg.beta2))
    d_opt = torch.optim.Adam(D.parameters(), cfg.d_lr, betas=(cfg.beta1, cfg.beta2))
    ema = EMA(G, cfg.ema_decay) if cfg.ema_decay > 0 else None

    # fixed inputs for sample grids: one face of each domain when possible
    fixed_idx = [int(np.flatnonzero(domains == d)[0]) for d in range(len(DOMAINS)) if (domains == d).any()][:8]
    fixed = x_all[fixed_idx]
    rows: list[dict[str, float]] = []
    g_last: dict[str, torch.Tensor | float] = {}  # the last generator losses, read only when logged
    checkpointer = Checkpointer(work, cfg.checkpoint_every, run_key(cfg, data_fingerprint(images, domains)))
    start = 1
    state = checkpointer.load()
    if state is not None:
        G.load_state_dict(state["G"])
        D.load_state_dict(state["D"])
        g_opt.load_state_dict(state["g_opt"])
        d_opt.load_state_dict(state["d_opt"])
        if ema is not None:
            ema.load_state_dict(state["ema"])
        rows, g_last = [dict(r) for r in state["rows"]], dict(state["g_last"])
        restore_random_state(gen, state["random"])
        start = state["iteration"] + 1
    progress = Progress("stargan iteration", cfg.iterations, start=start - 1)
    with checkpointer:
        for it in range(start, cfg.iterations + 1):
            _stargan_iteration(
                it, G, D, g_opt, d_opt, ema, x_all, y_all, gen, cfg, device, rows, g_last, progress, fixed, work
            )
            if checkpointer.due(it, cfg.iterations):
                state = {
                    "G": G.state_dict(),
                    "D": D.state_dict(),
                    "g_opt": g_opt.state_dict(),
                    "d_opt": d_opt.state_dict(),
                    "rows": rows,
                    "g_last": {k: float(v) for k, v in g_last.items()},
                    "random": random_state(gen),
                }
                if ema is not None:
                    state["ema"] = ema.state_dict()
                checkpointer.save(it, state)
    checkpointer.clear()
    final = ema.module if ema is not None else G
    final.eval()
    return final, pd.DataFrame(rows)


def _stargan_iteration(
    it: int,
    G: Generator,
    D: Discriminator,
    g_opt: torch.optim.Optimizer,
    d_opt: torch.optim.Optimizer,
    ema: EMA | None,
    x_all: torch.Tensor,
    y_all: torch.Tensor,
    gen: torch.Generator,
    cfg: StarGANConfig,
    device: torch.device,
    rows: list[dict[str, float]],
    g_last: dict[str, torch.Tensor | float],
    progress: Progress,
    fixed: torch.Tensor,
    work: Path,
) -> None:
    """One discriminator step (and every n_critic-th a generator step), then lr decay, logging, samples. Random
    draws come from `gen` on the training device and losses are read back only when logged: on a GPU nothing
    in between waits for the device."""
    n = len(x_all)
    idx = torch.randint(0, n, (cfg.batch_size,), generator=gen, device=gen.device)
    x_real = to_signed(x_all[idx])
    flip = torch.rand(len(idx), generator=gen, device=gen.device) < 0.5
    x_real = torch.where(flip[:, None, None, None], x_real.flip(3), x_real)
    label_org = y_all[idx]
    label_trg = label_org[torch.randperm(len(idx), generator=gen, device=gen.device)]
    c_org, c_trg = _one_hot(label_org, cfg.c_dim), _one_hot(label_trg, cfg.c_dim)

    # discriminator: real scores up, fake scores down, domain of real faces, gradient penalty
    with autocast(device):
        out_src, out_cls = D(x_real)
        d_real = -out_src.float().mean()
        d_cls = F.cross_entropy(out_cls.float(), label_org)
        with torch.no_grad():
            x_fake = G(x_real, c_trg).float()
        d_fake = D(x_fake)[0].float().mean()
    alpha = torch.rand(len(idx), 1, 1, 1, generator=gen, device=gen.device)
    x_hat = (alpha * x_real + (1 - alpha) * x_fake).requires_grad_(True)
    d_gp = gradient_penalty(D(x_hat)[0], x_hat)
    d_loss = d_real + d_fake + cfg.lambda_cls * d_cls + cfg.lambda_gp * d_gp
    d_opt.zero_grad(set_to_none=True)
    d_loss.backward()
    d_opt.step()

    # generator: fool D, land in the target domain, come back to the source face
    if it % cfg.n_critic == 0:
        with autocast(device):
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
        if ema is not None:
            ema.update_parameters(G)
        g_last.update(g_fake=g_fake.detach(), g_cls=g_cls.detach(), g_rec=g_rec.detach())

    factor = _lr_factor(cfg, it)
    for opt, lr in ((g_opt, cfg.g_lr), (d_opt, cfg.d_lr)):
        for group in opt.param_groups:
            group["lr"] = lr * factor

    if it % cfg.log_every == 0 or it == cfg.iterations:
        row = {
            "iteration": it,
            "d_real": d_real.item(),
            "d_fake": d_fake.item(),
            "d_cls": d_cls.item(),
            "d_gp": d_gp.item(),
            **{k: float(v) for k, v in g_last.items()},
        }
        rows.append(row)
        progress.update(it, " ".join(f"{k}={v:.3f}" for k, v in row.items() if k != "iteration"))
    if it % cfg.sample_every == 0 or it == cfg.iterations:
        sampler = ema.module if ema is not None else G
        _save_samples(sampler, fixed, work / f"samples_{it:07d}.png")
        save_loss_plot(pd.DataFrame(rows), work / "losses.png", "StarGAN losses")
        sampler.train()


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
