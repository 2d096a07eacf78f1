"""A generator trained by the original StarGAN code (Choi et al.; the code the paper's authors ran unchanged)
as this workflow's StarGAN translator, so a published or earlier model is used without retraining.

The original code saves `torch.save(G.state_dict(), "<iteration>-G.ckpt")`: a plain state dict, read here
with `weights_only=True` (a checkpoint can never run code). Its network is ours but for the following, each
undone exactly:
- RGB in: our faces are grey, i.e. R = G = B, so the first convolution's three colour filters are summed
  into one grey filter;
- RGB out: kept, and turned into grey after the tanh (Generator(out_channels=3));
- instance norms that also track running statistics: the original generates with the network in training
  mode (its test code never calls `eval()`), i.e. with each image's own statistics, which is what our
  instance norms always use; the running statistics are dropped;
- and its domains come in the order of its training folders (torchvision's ImageFolder sorts them), which
  the first convolution's domain channels are reordered from. A domain this workflow has no class for (RaFD's
  contempt, which the original README trains on with `--c_dim 8`) is dropped when asked (`drop`): our domain
  codes never switch its channel on, so leaving that channel out changes no output for our domains.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch

from synthfer.checkpoint import load_torch
from synthfer.labels import DOMAINS

PathLike = str | os.PathLike

ORIGINAL_DOMAIN_ORDER: tuple[str, ...] = tuple(sorted(DOMAINS))
"""ImageFolder's order of the seven domain folders (angry/anger, disgust, fear, happy, neutral, sad, surprise
sort the same way under either naming)."""

_RUNNING = ("running_mean", "running_var", "num_batches_tracked")


def _layer_indices(state: dict[str, torch.Tensor]) -> list[int]:
    return sorted({int(m.group(1)) for k in state if (m := re.match(r"main\.(\d+)\.", k))})


def convert_original_generator(
    state: dict[str, torch.Tensor], domains: list[str], drop: tuple[str, ...] = ()
) -> tuple[dict[str, torch.Tensor], int, int]:
    """The original generator's state dict as ours: (state dict, conv_dim, residual blocks). `domains`: the
    checkpoint's domains in its label order, ours and those in `drop`."""
    if not isinstance(state, dict) or "main.0.weight" not in state:
        keys = ", ".join(list(state)[:5]) if isinstance(state, dict) else type(state).__name__
        raise ValueError(
            f"not a StarGAN generator state dict as the original code saves it (no main.0.weight; found {keys})"
        )
    first = state["main.0.weight"]
    conv_dim, in_channels = first.shape[:2]
    c_dim = in_channels - 3
    if c_dim != len(domains):
        raise ValueError(
            f"the checkpoint has {c_dim} domains, but {len(domains)} names were given ({', '.join(domains)}); pass --domains in the checkpoint's order"
        )
    unknown = sorted(set(domains) - set(DOMAINS) - set(drop))
    if unknown or len(set(domains)) != len(domains) or not set(DOMAINS) <= set(domains):
        raise ValueError(
            f"--domains must name each of {', '.join(DOMAINS)} once, and any other domain of the checkpoint with "
            f"--drop; got {', '.join(domains)}{' (not ours: ' + ', '.join(unknown) + ')' if unknown else ''}"
        )
    missing = sorted(set(drop) - set(domains))
    if missing:
        raise ValueError(f"--drop {', '.join(missing)}: not among the checkpoint's --domains ({', '.join(domains)})")
    blocks = sorted({int(m.group(1)) for k in state if (m := re.match(r"main\.(\d+)\.main\.", k))})
    converted: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.endswith(_RUNNING):
            continue
        converted[re.sub(r"^main\.(\d+)\.main\.", r"main.\1.body.", key)] = value.detach().float().clone()
    grey = first[:, :3].sum(1, keepdim=True)
    codes = first[:, 3:][:, [domains.index(d) for d in DOMAINS]]  # our domain order
    converted["main.0.weight"] = torch.cat([grey, codes], dim=1).float()
    return converted, int(conv_dim), len(blocks)


def import_stargan(
    checkpoint: PathLike,
    out_path: PathLike,
    domains: list[str] | None = None,
    image_size: int = 64,
    drop: tuple[str, ...] = (),
) -> dict:
    """Write the original code's generator checkpoint as a generator file of this workflow (`stargan_model:` in
    the config uses it instead of training one). Returns what was found in it. Without `domains`, the folder
    order ImageFolder gives our seven domains (ORIGINAL_DOMAIN_ORDER); with `drop`, `domains` must be given: where
    another folder sorted among ours cannot be guessed."""
    from synthfer.checkpoint import save_model
    from synthfer.models.stargan import Generator
    from synthfer.train.stargan import StarGANConfig

    if drop and not domains:
        raise ValueError(
            f"--drop {', '.join(drop)} needs --domains: the checkpoint's domains in its label order (its training "
            "folders, sorted), e.g. angry,contemptuous,disgusted,fearful,happy,neutral,sad,surprised for RaFD"
        )
    domains = list(domains or ORIGINAL_DOMAIN_ORDER)
    state = load_torch(checkpoint)  # a pickle or a truncated file: a one-line ValueError naming it
    converted, conv_dim, blocks = convert_original_generator(state, domains, drop)
    cfg = StarGANConfig(image_size=image_size, conv_dim=conv_dim, g_repeat=blocks)
    generator = Generator(conv_dim, len(DOMAINS), blocks, out_channels=3)
    generator.load_state_dict(
        converted
    )  # strict: every weight of ours comes from the checkpoint and nothing is left over
    found = {
        "conv_dim": conv_dim,
        "residual_blocks": blocks,
        "domains": domains,
        "dropped": list(drop),
        "source": str(Path(checkpoint).resolve()),
    }
    save_model(generator, cfg, out_path, {"out_channels": 3, "imported": found})
    return found
