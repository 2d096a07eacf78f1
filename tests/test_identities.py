"""Identity sources: the StyleGAN-style generator, a user's TorchScript generator, real neutral faces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from synthfer.identities import RealNeutralIdentities, TorchScriptIdentities, to_gray_signed
from synthfer.models.stylegan import ModulatedConv, StyleIdentityDiscriminator, StyleIdentityGenerator
from synthfer.train.identity_gan import IdentityGANConfig, r1_penalty, sample_identities, train_identity_gan


def test_modulated_conv_equals_a_per_sample_demodulated_weight():
    torch.manual_seed(0)
    conv = ModulatedConv(4, 3, 3, w_dim=5)
    x, w = torch.randn(2, 4, 6, 6), torch.randn(2, 5)
    out = conv(x, w)
    style = conv.affine(w)
    for b in range(2):  # the textbook form: modulate the weight, demodulate each output channel, convolve
        weight = conv.scale * conv.weight * style[b].view(1, 4, 1, 1)
        weight = weight / weight.pow(2).sum(dim=(1, 2, 3), keepdim=True).add(1e-8).sqrt()
        torch.testing.assert_close(out[b : b + 1], F.conv2d(x[b : b + 1], weight, padding=1), rtol=1e-4, atol=1e-5)


def test_stylegan_shapes_truncation_and_noise():
    torch.manual_seed(0)
    G = StyleIdentityGenerator(32, z_dim=16, w_dim=16, mapping_layers=2, width=8)
    z = torch.randn(3, 16)
    assert G(z).shape == (3, 1, 32, 32)
    assert StyleIdentityDiscriminator(32, width=8)(G(z)).shape == (3,)
    with torch.no_grad():
        G.w_avg.copy_(G.map(torch.randn(64, 16)).mean(0))
        same = G(z, truncation=0.0)  # every z mapped to the mean w: one face (noise strengths start at 0)
        torch.testing.assert_close(same[0], same[1])
        assert not torch.allclose(G(z)[0], G(z)[1])
        for layer in [G.first, *(conv for block in G.blocks for conv in block)]:
            layer.noise_strength.fill_(0.5)
        a, b = G(z[:1], truncation=0.0), G(z[:1], truncation=0.0)
    assert not torch.allclose(a, b)  # the noise inputs now vary the details


def test_r1_penalty_of_a_linear_critic_is_its_squared_weight_norm():
    weight = torch.tensor([[[[1.0, -2.0], [0.5, 0.0]]]])
    x = torch.randn(5, 1, 2, 2, requires_grad=True)
    logits = (x * weight).sum(dim=(1, 2, 3))
    assert r1_penalty(logits, x).item() == pytest.approx(1 + 4 + 0.25)


def test_stylegan_identity_gan_trains_with_r1_and_ema(tmp_path):
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (24, 16, 16), dtype=np.uint8)
    cfg = IdentityGANConfig(
        image_size=16,
        architecture="stylegan",
        z_dim=8,
        w_dim=8,
        mapping_layers=2,
        width=4,
        iterations=4,
        batch_size=4,
        r1_gamma=1.0,
        ema_decay=0.5,
        truncation=0.7,
        log_every=2,
        sample_every=4,
        checkpoint_every=0,
    )
    G, losses = train_identity_gan(faces, cfg, torch.device("cpu"), tmp_path)
    assert isinstance(G, StyleIdentityGenerator) and (losses["r1"] > 0).all()
    assert G.w_avg.abs().sum() > 0  # the mean w was tracked for truncation
    first, again = sample_identities(G, 3, seed=5, truncation=0.7), sample_identities(G, 3, seed=5, truncation=0.7)
    assert (
        first.shape == (3, 1, 16, 16) and first.dtype == torch.uint8 and torch.equal(first, again)
    )  # same seed, same people
    assert (tmp_path / "samples_0000004.png").exists()


class _AstronautGenerator(nn.Module):
    """A stand-in for a pretrained generator: z -> a real photo (RGB, [-1, 1]) whose brightness follows z."""

    def __init__(self, photo: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("photo", photo)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        shift = 0.05 * torch.tanh(z[:, :1]).view(-1, 1, 1, 1)
        return (self.photo.unsqueeze(0) + shift).clamp(-1, 1)


@pytest.fixture(scope="module")
def astronaut_module(tmp_path_factory) -> str:
    skimage = pytest.importorskip("skimage.data")
    photo = torch.from_numpy(skimage.astronaut()).permute(2, 0, 1).float() / 127.5 - 1
    photo = F.interpolate(photo[None], size=(256, 256), mode="bilinear", antialias=True)[0]
    path = tmp_path_factory.mktemp("ts") / "generator.pt"
    torch.jit.script(_AstronautGenerator(photo)).save(str(path))
    return str(path)


def test_torchscript_faces_are_detected_and_eye_aligned_like_real_ones(astronaut_module):
    source = TorchScriptIdentities(astronaut_module, z_dim=4, image_size=32, seed=0)
    faces = source.draw(3, unit=0)
    assert faces.shape == (3, 1, 32, 32) and faces.dtype == torch.uint8
    assert torch.equal(
        faces, TorchScriptIdentities(astronaut_module, z_dim=4, image_size=32, seed=0).draw(3, unit=0)
    )  # reproducible
    plain = TorchScriptIdentities(astronaut_module, z_dim=4, image_size=32, seed=0, align=False).draw(3, unit=0)
    # aligned: a face filling the crop, unlike the whole resized photo
    corr = np.corrcoef(faces[0].flatten().float().numpy(), plain[0].flatten().float().numpy())[0, 1]
    assert corr < 0.8


def test_a_torchscript_generator_without_faces_is_a_clear_error(tmp_path):
    class Blank(nn.Module):
        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return torch.zeros(z.shape[0], 3, 64, 64)

    path = tmp_path / "blank.pt"
    torch.jit.script(Blank()).save(str(path))
    with pytest.raises(RuntimeError, match="only 0 usable faces"):
        TorchScriptIdentities(path, z_dim=4, image_size=32, seed=0, max_tries=2).draw(2, unit=0)


def test_gray_conversion_uses_luminance():
    rgb = torch.zeros(1, 3, 1, 1)
    rgb[0, 1] = 1.0  # pure green
    assert to_gray_signed(rgb).item() == pytest.approx(0.587)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        to_gray_signed(torch.zeros(1, 2, 1, 1))


def test_real_neutral_identities_use_each_subject_once():
    subjects = [f"s{i}" for i in range(6) for _ in range(3)]
    emotions = ["neutral", "neutral", "anger"] * 6
    images = np.arange(18, dtype=np.uint8).repeat(4).reshape(18, 2, 2)
    source = RealNeutralIdentities(images, pd.DataFrame({"subject": subjects, "emotion": emotions}), seed=0)
    units = [source.draw(3, unit=u) for u in range(2)]
    values = [int(x[0, 0, 0]) for u in units for x in u]
    assert len(set(v // 3 for v in values)) == 6  # six different subjects across the two units
    assert all(v % 3 == 0 for v in values)  # each subject's first neutral face
    with pytest.raises(ValueError, match="unit 2 needs subjects 6-8 but the GAN-training set has 6"):
        source.draw(3, unit=2)
