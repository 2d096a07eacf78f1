"""CycleGAN / ECycleGAN: shapes, one optimisation step, and each loss term on a hand-made case."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthfer.models.cyclegan import DenseSumBlock, GrayToRGB, PatchDiscriminator, TranslationGenerator
from synthfer.train.cyclegan import (
    CycleGANConfig,
    CycleLoss,
    ImagePool,
    VGGWeightsMissing,
    critic_loss,
    generator_adv_loss,
    train_cyclegan,
    translate_faces,
    vgg19_features,
)


@pytest.mark.parametrize("sub_blocks", [0, 3])
def test_generators_keep_the_face_shape_and_discriminator_scores_patches(sub_blocks):
    G = TranslationGenerator(ngf=8, blocks=2, dense_sub_blocks=sub_blocks)
    x = torch.rand(2, 1, 48, 48) * 2 - 1
    y = G(x)
    assert y.shape == x.shape and y.abs().max() <= 1
    scores = PatchDiscriminator(ndf=8, n_layers=3)(x)
    assert scores.shape == (2, 1, 4, 4)  # a map of patch scores, not one number
    kinds = {type(m).__name__ for m in G.modules()}
    assert ("DenseSumBlock" in kinds) == bool(sub_blocks) and ("ResnetBlock" in kinds) != bool(sub_blocks)


def test_dense_block_sums_its_connections_and_scales_by_alpha():
    torch.manual_seed(0)
    block = DenseSumBlock(4, sub_blocks=2, alpha=0.3)
    x = torch.randn(1, 4, 8, 8)
    first = x + block.subs[0](x)
    total = first + block.subs[1](first)
    torch.testing.assert_close(block(x), x + 0.3 * block.fuse(total))
    block.alpha = 0.0
    torch.testing.assert_close(block(x), x)  # alpha 0: the block is the identity


def test_critic_and_generator_losses_on_hand_made_scores():
    real, fake = torch.ones(4, 1, 2, 2), torch.zeros(4, 1, 2, 2)
    assert critic_loss(real, fake, "lsgan").item() == 0.0  # a perfect LSGAN critic
    assert critic_loss(fake, real, "lsgan").item() == pytest.approx(1.0)  # the worst: 0.5 * (1 + 1)
    everyone = torch.ones(4, dtype=torch.bool)
    assert critic_loss(real, fake, "lsgan", everyone, everyone).item() == pytest.approx(1.0)  # all labels flipped
    one = torch.tensor([True, False, False, False])
    assert critic_loss(real, fake, "lsgan", one, None).item() == pytest.approx(
        0.5 * 0.25
    )  # one of 4 real targets flipped
    scores_real, scores_fake = torch.full((4, 1, 2, 2), 3.0), torch.full((4, 1, 2, 2), -1.0)
    assert critic_loss(scores_real, scores_fake, "wgan-gp").item() == pytest.approx(-1.0 - 3.0)  # D(fake) - D(real)
    assert generator_adv_loss(torch.ones(2, 1, 2, 2), "lsgan").item() == 0.0
    assert generator_adv_loss(scores_fake, "wgan-gp").item() == pytest.approx(1.0)


def test_cycle_loss_is_zero_for_a_perfect_reconstruction_and_perceptual_adds_features():
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    rec = x + 0.1
    assert CycleLoss("l1")(x, x).item() == 0.0
    assert CycleLoss("l1")(x, rec).item() == pytest.approx(0.1, rel=1e-4)
    perceptual = CycleLoss("perceptual", vgg19_features("random"), layers=4)
    assert perceptual(x, x).item() == 0.0
    assert perceptual(x, rec).item() > 0.5 * 0.1  # half the pixel term plus a positive feature term
    assert not any(p.requires_grad for p in perceptual.vgg.parameters())  # VGG stays frozen
    assert all(p.requires_grad for p in perceptual.to_rgb.parameters())  # the 1x1 gray->RGB conv learns


def test_gray_to_rgb_cannot_shrink_to_zero():
    to_rgb = GrayToRGB()
    x = torch.rand(1, 1, 4, 4)
    torch.testing.assert_close(to_rgb(x), x.expand(1, 3, 4, 4))  # starts as the gray copy
    with torch.no_grad():
        to_rgb.weight.mul_(1e-3)
    torch.testing.assert_close(to_rgb(x), x.expand(1, 3, 4, 4))  # unit-norm weights: scaling them changes nothing


def test_missing_vgg_weights_name_the_file_and_the_options(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(VGGWeightsMissing, match="vgg19-dcbb9e9d.pth.*vgg_weights: random.*cycle_loss: l1"):
        vgg19_features("imagenet")
    assert not any(tmp_path.rglob("*.pth"))  # nothing downloaded


def test_image_pool_stores_then_mixes_history():
    gen = torch.Generator().manual_seed(0)
    pool = ImagePool(4)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    torch.testing.assert_close(pool.query(first, gen), first)  # not full: passed through and stored
    new = torch.full((64, 1, 1, 1), 100.0)
    out = pool.query(new, gen)
    from_history = (out < 100).sum().item()
    assert 0 < from_history <= 4  # some answers come from the stored history, each stored image used once
    assert (pool.images == 100).sum().item() == from_history  # and those slots now hold the new fakes
    assert torch.equal(ImagePool(0).query(new, gen), new)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {
            "variant": "ecyclegan",
            "cycle_loss": "perceptual",
            "vgg_weights": "random",
            "vgg_layers": 4,
            "gan_loss": "wgan-gp",
            "label_flip": 0.1,
            "instance_noise": 0.1,
            "g_per_d": 2,
        },
    ],
)
def test_a_few_training_steps_change_the_generator_and_log_losses(overrides, tmp_path):
    rng = np.random.default_rng(0)
    source, target = (
        rng.integers(0, 256, (12, 16, 16), dtype=np.uint8),
        rng.integers(0, 256, (12, 16, 16), dtype=np.uint8),
    )
    cfg = CycleGANConfig(
        image_size=16,
        ngf=4,
        ndf=4,
        blocks=1,
        d_layers=2,
        iterations=4,
        batch_size=4,
        log_every=2,
        sample_every=4,
        checkpoint_every=0,
        pool_size=4,
        **overrides,
    )
    torch.manual_seed(cfg.seed)
    initial = cfg.build_generator()
    G, losses = train_cyclegan(source, target, cfg, torch.device("cpu"), tmp_path)
    assert list(losses["iteration"]) == [2, 4] and losses[["g_adv", "g_cyc", "g_idt", "d_loss"]].notna().all().all()
    assert any(not torch.equal(a, b) for a, b in zip(initial.state_dict().values(), G.state_dict().values()))
    assert (tmp_path / "losses.png").exists() and (tmp_path / "samples_0000004.png").exists()
    out = translate_faces(G, torch.from_numpy(source).unsqueeze(1))
    assert out.shape == (12, 1, 16, 16) and out.dtype == torch.uint8


def test_config_rejects_unknown_choices():
    with pytest.raises(ValueError, match="variant"):
        CycleGANConfig(variant="pix2pix")
    with pytest.raises(ValueError, match="gan_loss"):
        CycleGANConfig(gan_loss="hinge")
