"""BytewiseDropout draws nn.Dropout's masks from a byte per element: every byte of each 64-bit draw must be
uniform, the kept faces scaled as nn.Dropout scales them, and stacked (vmapped) models must still draw a mask
per model."""

import pytest
import torch
from torch import nn

from synthfer.models.classifier import PaperCNN
from synthfer.models.dropout import BytewiseDropout, with_native_dropout
from synthfer.train.stacked import StackedModels


@pytest.mark.parametrize("p", [0.25, 0.5])
def test_every_byte_of_a_draw_keeps_its_share(p):
    torch.manual_seed(0)
    out = BytewiseDropout(p).train()(torch.ones(8 * 40_000))
    kept = (out != 0).view(-1, 8).float().mean(0)  # column j: the j-th byte of each 64-bit draw
    # 40,000 faces per byte: a share's standard error is ~0.0025; a byte that is never random sits at 1.0 or 0.0
    torch.testing.assert_close(kept, torch.full((8,), 1 - p), atol=0.015, rtol=0)


def test_kept_elements_are_scaled_and_the_gradient_is_the_mask():
    torch.manual_seed(1)
    x = torch.rand(16, 64, 6, 6).add_(0.5).requires_grad_(True)
    out = BytewiseDropout(0.25).train()(x)
    kept = out != 0
    assert 0.6 < kept.float().mean() < 0.9
    torch.testing.assert_close(out[kept], x[kept] / 0.75)
    out.sum().backward()
    torch.testing.assert_close(x.grad, kept.float() / 0.75)


def test_a_channels_last_input_gets_a_mask_in_its_own_layout():
    x = torch.rand(4, 8, 5, 5).add_(0.5).contiguous(memory_format=torch.channels_last)
    torch.manual_seed(2)
    out = BytewiseDropout(0.5).train()(x)
    assert out.is_contiguous(memory_format=torch.channels_last)
    torch.manual_seed(2)
    plain = BytewiseDropout(0.5).train()(x.permute(0, 2, 3, 1).contiguous())  # the same bytes in NHWC order
    torch.testing.assert_close(out, plain.permute(0, 3, 1, 2))


def test_the_same_seed_draws_the_same_mask_and_another_seed_another():
    drop, x = BytewiseDropout(0.25).train(), torch.ones(1000)
    torch.manual_seed(3)
    a = drop(x)
    torch.manual_seed(3)
    b = drop(x)
    torch.manual_seed(4)
    c = drop(x)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_eval_mode_and_other_rates_take_nn_dropouts_own_path():
    x = torch.rand(500)
    assert torch.equal(BytewiseDropout(0.25).eval()(x), x)
    torch.manual_seed(5)
    ours = BytewiseDropout(0.1).train()(x)  # 0.9 * 256 is not a whole number
    torch.manual_seed(5)
    torch.testing.assert_close(ours, nn.Dropout(0.1).train()(x))


def test_stacked_models_draw_their_own_masks_under_vmap():
    model = PaperCNN(24)
    assert any(isinstance(m, BytewiseDropout) for m in model.modules())
    assert not any(isinstance(m, BytewiseDropout) for m in with_native_dropout(model).modules())
    stack = StackedModels([model, model])  # the same weights twice: only the masks can tell them apart
    stack.train()
    torch.manual_seed(6)
    logits = stack(torch.rand(1, 8, 1, 24, 24).expand(2, 8, 1, 24, 24))
    assert not torch.allclose(logits[0], logits[1])
