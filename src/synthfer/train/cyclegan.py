"""CycleGAN / ECycleGAN training: one unpaired translator from a source emotion (Neutral) to a target one.

Two generators (source->target, target->source) and two PatchGAN critics. Adversarial loss LSGAN or
WGAN-GP; cycle loss L1, or ECycleGAN's perceptual one (0.5 L1 on pixels + 0.5 L1 on VGG19 features read
through a learned gray->RGB 1x1 conv); identity loss weighted by lambda_idt x lambda_cyc, as in CycleGAN.
The critics see fakes from a history pool of 50. Counter-measures against critic over-fitting, each a
switch: label flipping with probability p, instance noise decaying linearly to zero, and alternate
training with several generator updates per critic update. Adam (0.5, 0.999), lr decayed linearly to zero
over the last part. Faces sit in memory as one tensor; checkpoints make the run resumable.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from synthfer.checkpoint import load_model, save_model
from synthfer.models.cyclegan import GrayToRGB, TranslationGenerator, VGGFeatures
from synthfer.plots import save_image_grid, save_loss_plot
from synthfer.runtime import autocast, seed_everything
from synthfer.settings import CYCLEGAN_LOSSES, CYCLEGAN_VARIANTS, CycleGANConfig  # noqa: F401 - re-exported
from synthfer.tensors import from_signed, to_signed
from synthfer.train.gan_state import GANState, train_loop
from synthfer.train.graphs import adam_for, set_lr
from synthfer.train.penalties import gradient_penalty
from synthfer.train.resume import Checkpointer, data_fingerprint, run_key

log = logging.getLogger("synthfer")

VARIANTS = CYCLEGAN_VARIANTS
GAN_LOSSES = CYCLEGAN_LOSSES


class VGGWeightsMissing(RuntimeError):
    """The perceptual loss asks for ImageNet VGG19 weights that are not in the torch cache."""


def vgg19_cache_path() -> Path:
    """Where torchvision keeps the VGG19 ImageNet weights (under $TORCH_HOME)."""
    from torchvision.models import VGG19_Weights

    return Path(torch.hub.get_dir()) / "checkpoints" / Path(VGG19_Weights.IMAGENET1K_V1.url).name


def vgg19_features(weights: str) -> nn.Sequential:
    """VGG19's convolutional part; ImageNet weights are read from the torch cache (never downloaded here,
    loaded with weights_only=True)."""
    from torchvision.models import VGG19_Weights
    from torchvision.models.vgg import cfgs, make_layers

    features = make_layers(cfgs["E"])
    if weights == "random":
        return features
    url = VGG19_Weights.IMAGENET1K_V1.url
    cached = vgg19_cache_path()
    if not cached.exists():
        raise VGGWeightsMissing(
            f"the perceptual cycle loss needs VGG19 ImageNet weights at {cached} (not found; this machine is offline). "
            f"Put the file there (from {url}), or set vgg_weights: random, or cycle_loss: l1, in the translator's config"
        )
    state = torch.load(cached, map_location="cpu", weights_only=True)
    features.load_state_dict({k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")})
    return features


class ImagePool:
    """History of generated images shown to the critic: once full, each new fake is, with probability 1/2,
    swapped for a stored one (Shrivastava et al.), which steadies the critic. The swaps of a batch are drawn at
    once on the generator's device (distinct slots, a batch larger than the pool in pool-sized chunks): no
    per-image decision is read back to the host."""

    def __init__(self, size: int, device: torch.device | None = None) -> None:
        self.size = size
        self.device = device or torch.device("cpu")  # where a loaded history goes
        self.images: torch.Tensor | None = None

    def query(self, fakes: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if self.size == 0:
            return fakes
        fakes = fakes.detach()
        stored = 0 if self.images is None else len(self.images)
        fill = min(self.size - stored, len(fakes))  # not full yet: pass through and store
        if fill:
            head = fakes[:fill].clone()
            self.images = head if self.images is None else torch.cat([self.images, head])
        out = [fakes[:fill]]
        for i in range(fill, len(fakes), self.size):
            chunk = fakes[i : i + self.size]
            swap = (torch.rand(len(chunk), generator=gen, device=gen.device) < 0.5).view(-1, *[1] * (chunk.dim() - 1))
            slots = torch.randperm(self.size, generator=gen, device=gen.device)[: len(chunk)]
            old = self.images[slots]
            out.append(torch.where(swap, old, chunk))
            self.images[slots] = torch.where(swap, chunk, old)  # distinct slots: the write is deterministic
        return torch.cat(out)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"images": self.images.cpu() if self.images is not None else torch.zeros(0)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        images = state["images"]
        self.images = images.to(self.device) if len(images) else None


def critic_loss(
    real_scores: torch.Tensor,
    fake_scores: torch.Tensor,
    gan_loss: str,
    flip_real: torch.Tensor | None = None,
    flip_fake: torch.Tensor | None = None,
) -> torch.Tensor:
    """Critic loss on raw patch scores. LSGAN: (D(real) - 1)^2 + D(fake)^2, halved as in CycleGAN;
    WGAN: D(fake) - D(real). `flip_*` (bool per sample) swap that sample's real/fake target."""
    sign_real = torch.ones(len(real_scores), device=real_scores.device)
    sign_fake = -torch.ones(len(fake_scores), device=fake_scores.device)
    if flip_real is not None:
        sign_real = torch.where(flip_real, -sign_real, sign_real)
    if flip_fake is not None:
        sign_fake = torch.where(flip_fake, -sign_fake, sign_fake)
    if gan_loss == "lsgan":

        def ls(scores: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
            target = (sign > 0).float().view(-1, *[1] * (scores.dim() - 1)).expand_as(scores)
            return F.mse_loss(scores, target)

        return 0.5 * (ls(real_scores, sign_real) + ls(fake_scores, sign_fake))
    per_real = real_scores.flatten(1).mean(1)
    per_fake = fake_scores.flatten(1).mean(1)
    return -(sign_real * per_real).mean() - (sign_fake * per_fake).mean()


def generator_adv_loss(fake_scores: torch.Tensor, gan_loss: str) -> torch.Tensor:
    """The generator wants its fakes scored real: LSGAN (D(fake) - 1)^2, WGAN -D(fake)."""
    if gan_loss == "lsgan":
        return F.mse_loss(fake_scores, torch.ones_like(fake_scores))
    return -fake_scores.mean()


class CycleLoss(nn.Module):
    """L1 between a face and its reconstruction; the perceptual variant adds L1 between their VGG19
    features (0.5 each)."""

    def __init__(self, kind: str, vgg: nn.Sequential | None = None, layers: int = 16) -> None:
        super().__init__()
        self.kind = kind
        if kind == "perceptual":
            assert vgg is not None
            self.to_rgb = GrayToRGB()
            self.vgg = VGGFeatures(vgg, layers)

    def forward(self, x: torch.Tensor, rec: torch.Tensor) -> torch.Tensor:
        pixel = (x - rec).abs().mean()
        if self.kind == "l1":
            return pixel
        return 0.5 * pixel + 0.5 * (self.vgg(self.to_rgb(x)) - self.vgg(self.to_rgb(rec))).abs().mean()


def _lr_factor(cfg: CycleGANConfig, it: int) -> float:
    start = int(cfg.decay_start * cfg.iterations)
    return 1.0 if it < start else max(0.0, 1.0 - (it - start) / max(1, cfg.iterations - start))


def translate_faces(generator: nn.Module, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """uint8 faces (N, 1, S, S) through one generator; returns uint8, same shape."""
    device = next(generator.parameters()).device
    generator.eval()
    out = []
    with torch.no_grad(), autocast(device):
        for i in range(0, len(images), batch):
            out.append(from_signed(generator(to_signed(images[i : i + batch].to(device))).float()).cpu())
    return torch.cat(out) if out else images.clone()


def cyclegan_state(cfg: CycleGANConfig, device: torch.device) -> GANState:
    """Fresh generators both ways, critics, the cycle loss (with its VGG for ECycleGAN), optimisers and image
    pools, seeded by `cfg.seed`."""
    gen = seed_everything(cfg.seed, device)
    G_ab, G_ba = cfg.build_generator().to(device), cfg.build_generator().to(device)
    D_a, D_b = cfg.build_discriminator().to(device), cfg.build_discriminator().to(device)
    cycle = CycleLoss(
        cfg.cycle_loss, vgg19_features(cfg.vgg_weights) if cfg.cycle_loss == "perceptual" else None, cfg.vgg_layers
    ).to(device)
    g_params = [*G_ab.parameters(), *G_ba.parameters(), *(p for p in cycle.parameters() if p.requires_grad)]
    return GANState(
        gen,
        device,
        G_ab=G_ab,
        G_ba=G_ba,
        D_a=D_a,
        D_b=D_b,
        cycle=cycle,
        g_opt=adam_for(g_params, cfg.lr, device, betas=(cfg.beta1, cfg.beta2)),
        d_opt=adam_for([*D_a.parameters(), *D_b.parameters()], cfg.lr, device, betas=(cfg.beta1, cfg.beta2)),
        pool_a=ImagePool(cfg.pool_size, device),
        pool_b=ImagePool(cfg.pool_size, device),
    )


def train_cyclegan(
    source: np.ndarray, target: np.ndarray, cfg: CycleGANConfig, device: torch.device, work_dir: str | os.PathLike
) -> tuple[TranslationGenerator, pd.DataFrame]:
    """Train on uint8 faces of the source and target emotions (unpaired); returns the source->target
    generator and the loss log. Sample grids, loss plot and checkpoints go to work_dir."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    state = cyclegan_state(cfg, device)
    xa_all = torch.from_numpy(source).unsqueeze(1).to(device)
    xb_all = torch.from_numpy(target).unsqueeze(1).to(device)
    fixed_a, fixed_b = xa_all[:6], xb_all[:6]
    name = f"{cfg.variant} {cfg.source}->{cfg.target}"

    def sample(state: GANState) -> None:
        _save_samples(state.G_ab, state.G_ba, fixed_a, fixed_b, work / f"samples_{state.iteration:07d}.png")
        save_loss_plot(pd.DataFrame(state.rows), work / "losses.png", f"{name} losses")

    def step(state: GANState) -> dict[str, torch.Tensor | float]:
        batch = (_batch(xa_all, cfg.batch_size, state.random), _batch(xb_all, cfg.batch_size, state.random))
        return cyclegan_step(state, batch, cfg)

    train_loop(
        state,
        step,
        cfg,
        Checkpointer(work, cfg.checkpoint_every, run_key(cfg, data_fingerprint(source, target))),
        f"{name} iteration",
        sample,
    )
    return state.G_ab.eval(), pd.DataFrame(state.rows)


def _batch(x_all: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    idx = torch.randint(0, len(x_all), (n,), generator=gen, device=gen.device)
    x = to_signed(x_all[idx])
    flip = torch.rand(n, generator=gen, device=gen.device) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def _noisy(x: torch.Tensor, sigma: float | torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Instance noise; `sigma` a tensor where steps are captured (GANState.graphs.level), always drawn then."""
    if isinstance(sigma, torch.Tensor) or sigma > 0:
        return x + sigma * torch.randn(x.shape, generator=gen, device=gen.device)
    return x


def cyclegan_step(
    state: GANState, batch: tuple[torch.Tensor, torch.Tensor], cfg: CycleGANConfig
) -> dict[str, torch.Tensor | float]:
    """One generator step (both ways), every g_per_d-th iteration a critic step, then the lr decay. `batch`:
    real faces of the source and the target emotion in [-1, 1]. Returns the losses to log, as tensors (read
    back only when logged); the critics' loss is the latest one. On a GPU both updates are replayed as CUDA graphs
    (state.graphs) once the image pools are full; the noise level and learning rates are set between them."""
    it, graphs = state.iteration, state.graphs
    real_a, real_b = batch
    sigma = cfg.instance_noise * max(0.0, 1.0 - (it - 1) / cfg.iterations)
    noise = graphs.level("noise_sigma", sigma) if cfg.instance_noise > 0 else 0.0
    g_adv, g_cyc, g_idt, fake_a, fake_b = graphs("g", lambda a, b: _g_update(state, a, b, noise, cfg), real_a, real_b)
    if it % cfg.g_per_d == 0:  # the pools change shape until full: eager till then
        full = all(
            pool.size == 0 or len(pool.images if pool.images is not None else ()) == pool.size
            for pool in (state.pool_a, state.pool_b)
        )
        state.last["d_loss"] = graphs(
            "d" if full else None, lambda *t: _d_update(state, t, noise, cfg), real_a, real_b, fake_a, fake_b
        )
    factor = _lr_factor(cfg, it)
    set_lr(state.g_opt, cfg.lr * factor)
    set_lr(state.d_opt, cfg.lr * factor)
    return {
        "g_adv": g_adv,
        "g_cyc": g_cyc,
        "g_idt": g_idt,
        "d_loss": state.last.get("d_loss", float("nan")),
        "noise_sigma": sigma,
    }


def _g_update(
    state: GANState, real_a: torch.Tensor, real_b: torch.Tensor, sigma: float | torch.Tensor, cfg: CycleGANConfig
) -> tuple[torch.Tensor, ...]:
    """The generators: fool both critics, come back through the cycle, leave faces of the other domain alone.
    Returns (adversarial, cycle, identity loss, fake a, fake b)."""
    device, gen = state.device, state.random
    G_ab, G_ba, D_a, D_b, cycle, g_opt = state.G_ab, state.G_ba, state.D_a, state.D_b, state.cycle, state.g_opt
    with autocast(device, cfg.precision):  # auto: bf16 where the device has bf16 units
        fake_b, fake_a = G_ab(real_a), G_ba(real_b)
        g_adv = generator_adv_loss(D_b(_noisy(fake_b, sigma, gen)).float(), cfg.gan_loss) + generator_adv_loss(
            D_a(_noisy(fake_a, sigma, gen)).float(), cfg.gan_loss
        )
        g_cyc = cycle(real_a, G_ba(fake_b).float()) + cycle(real_b, G_ab(fake_a).float())
        g_idt = torch.zeros((), device=device)
        if cfg.lambda_idt > 0:
            g_idt = (G_ab(real_b).float() - real_b).abs().mean() + (G_ba(real_a).float() - real_a).abs().mean()
    g_loss = g_adv + cfg.lambda_cyc * g_cyc + cfg.lambda_idt * cfg.lambda_cyc * g_idt
    g_opt.zero_grad(set_to_none=True)
    g_loss.backward()
    g_opt.step()
    return g_adv.detach(), g_cyc.detach(), g_idt.detach(), fake_a.detach(), fake_b.detach()


def _d_update(
    state: GANState, faces: tuple[torch.Tensor, ...], sigma: float | torch.Tensor, cfg: CycleGANConfig
) -> torch.Tensor:
    """The critics: real faces vs fakes from the history pool. `faces`: real a, real b, fake a, fake b.
    Returns their summed loss."""
    device, gen = state.device, state.random
    real_a, real_b, fake_a, fake_b = faces
    d_loss = torch.zeros((), device=device)
    for D, real, pool, fake in ((state.D_a, real_a, state.pool_a, fake_a), (state.D_b, real_b, state.pool_b, fake_b)):
        fake = pool.query(fake.float(), gen)
        flips = (
            [torch.rand(len(real), generator=gen, device=gen.device) < cfg.label_flip for _ in range(2)]
            if cfg.label_flip > 0
            else [None, None]
        )
        with autocast(device, cfg.precision):  # auto: bf16 where the device has bf16 units
            real_in, fake_in = _noisy(real, sigma, gen), _noisy(fake, sigma, gen)
            loss = critic_loss(D(real_in).float(), D(fake_in).float(), cfg.gan_loss, *flips)
        if cfg.gan_loss == "wgan-gp":
            alpha = torch.rand(len(real), 1, 1, 1, generator=gen, device=gen.device)
            x_hat = (alpha * real_in + (1 - alpha) * fake_in).requires_grad_(True)
            loss = loss + cfg.lambda_gp * gradient_penalty(D(x_hat), x_hat)
        d_loss = d_loss + loss
    state.d_opt.zero_grad(set_to_none=True)
    d_loss.backward()
    state.d_opt.step()
    return d_loss.detach()


def _save_samples(G_ab: nn.Module, G_ba: nn.Module, fixed_a: torch.Tensor, fixed_b: torch.Tensor, path: Path) -> None:
    """Rows: source face, translated, reconstructed; then target face, translated back, reconstructed."""
    to_b = translate_faces(G_ab, fixed_a)
    to_a = translate_faces(G_ba, fixed_b)
    grid = torch.cat(
        [fixed_a.cpu(), to_b, translate_faces(G_ba, to_b), fixed_b.cpu(), to_a, translate_faces(G_ab, to_a)]
    )
    save_image_grid(grid, path, ncol=max(len(fixed_a), 1))
    G_ab.train()
    G_ba.train()


def save_cyclegan(G: TranslationGenerator, cfg: CycleGANConfig, path: str | os.PathLike) -> None:
    save_model(G, cfg, path)


def load_cyclegan(path: str | os.PathLike, device: torch.device) -> tuple[TranslationGenerator, CycleGANConfig]:
    return load_model(path, CycleGANConfig, CycleGANConfig.build_generator, device)
