"""The settings of every training step, as frozen dataclasses: what config.yaml's sections become.

They live apart from the code that trains, and import neither torch nor scikit-learn, because the workflow builds
them when it parses (every dry run, and every job on a cluster, parses it): importing torch there cost ~4 s a
parse. Each step's module re-exports its own (`from synthfer.train.stargan import StarGANConfig` still works).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from synthfer.labels import DOMAINS, EMOTIONS
from synthfer.translators import PER_EMOTION, translator

if TYPE_CHECKING:
    import torch

    from synthfer.models.cyclegan import (  # codemap: skip (its trainer imports the network)
        PatchDiscriminator,
        TranslationGenerator,
    )
    from synthfer.models.stargan import Discriminator, Generator  # codemap: skip (its trainer imports the network)

PRECISIONS = ("auto", "fp32", "bf16")
"""Training precision: `auto` is bf16 autocast where the device has bf16 units, else fp32."""
PAPER_CNN = "paper_cnn"
CLASSIFIER_ARCHITECTURES = (PAPER_CNN, "vgg16")
"""The classifiers ClassifierConfig.build_model can build: the paper's CNN, and the baselines it is compared with
(each trained on real faces only as an arm of its own, `experiment.baselines`; synthfer.arms)."""
CYCLEGAN_VARIANTS = PER_EMOTION  # the CycleGAN family of synthfer.translators
CYCLEGAN_LOSSES = ("lsgan", "wgan-gp")
IDENTITY_GAN_ARCHITECTURES = ("dcgan", "stylegan")
IDENTITY_SOURCES = ("gan", "torchscript", "real_neutral")


@dataclass(frozen=True)
class ClassifierConfig:
    """config.yaml `classifier:` (its per-arm and per-k overrides merged): the expression classifier and its training."""

    image_size: int = 64
    max_epochs: int = 50
    patience: int = 5
    batch_size: int = 16
    lr: float = 1e-4
    eval_batch_size: int = 1024
    n_classes: int = len(EMOTIONS)
    architecture: str = "paper_cnn"  # or "vgg16": the torchvision VGG16 baseline the paper compares with
    augment: bool = False  # random flip + small affine per face, on the device (off in the paper)
    start_from_epoch: int = 0  # Keras' EarlyStopping option: epochs up to this one never count toward patience
    precision: str = "auto"  # training and validation: auto (bf16 where the device has bf16 units) | fp32 | bf16
    compile: bool = False  # torch.compile the network; a compiler failure falls back to eager with a warning

    def __post_init__(self) -> None:
        if self.architecture not in CLASSIFIER_ARCHITECTURES:
            raise ValueError(
                f"classifier architecture must be one of {CLASSIFIER_ARCHITECTURES}, got {self.architecture!r}"
            )
        if self.precision not in PRECISIONS:
            raise ValueError(f"classifier precision must be one of {PRECISIONS}, got {self.precision!r}")

    def build(self) -> torch.nn.Module:
        from synthfer.models.classifier import PaperCNN  # codemap: skip (its trainer imports the network)
        from synthfer.train.classifier import vgg16_gray  # codemap: skip (its trainer imports the network)

        if self.architecture == "vgg16":
            return vgg16_gray(self.n_classes)
        return PaperCNN(self.image_size, self.n_classes)


@dataclass(frozen=True)
class StarGANConfig:
    """Sizes and optimisation of the translator; the paper's values are the defaults."""

    image_size: int = 64
    conv_dim: int = 64
    d_conv_dim: int = 64
    g_repeat: int = 6
    d_repeat: int = 0  # 0 = down to 1x1 (log2 of image_size)
    iterations: int = 200_000
    batch_size: int = 16
    g_lr: float = 1e-4
    d_lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    n_critic: int = 5
    lambda_cls: float = 1.0
    lambda_rec: float = 10.0
    lambda_gp: float = 10.0
    decay_start: float = 0.5  # fraction of iterations after which the lr decays linearly to 0
    ema_decay: float = 0.0  # 0 = no EMA generator
    log_every: int = 100
    sample_every: int = 1000
    checkpoint_every: int = 1000  # also on SIGTERM / SIGUSR1; 0 = only on a signal
    seed: int = 0
    precision: str = (
        "auto"  # training steps: auto (bf16 where the device has bf16 units) | fp32 (config `precision: fp32`)
    )

    @property
    def c_dim(self) -> int:
        return len(DOMAINS)

    def build_generator(self) -> Generator:
        from synthfer.models.stargan import Generator  # codemap: skip (its trainer imports the network)

        return Generator(self.conv_dim, self.c_dim, self.g_repeat)

    def build_discriminator(self) -> Discriminator:
        from synthfer.models.stargan import (  # codemap: skip (its trainer imports the network)
            Discriminator,
            default_d_repeat,
        )

        return Discriminator(
            self.image_size, self.d_conv_dim, self.c_dim, self.d_repeat or default_d_repeat(self.image_size)
        )


@dataclass(frozen=True)
class CycleGANConfig:
    """One translator source -> target. Defaults: CycleGAN as published; `variant="ecyclegan"` with
    `cycle_loss="perceptual"` is study 2's ECycleGAN (2 dense blocks x 3 sub-blocks, alpha 0.5)."""

    source: str = "neutral"
    target: str = "disgust"
    image_size: int = 48
    variant: str = "cyclegan"
    ngf: int = 64
    ndf: int = 64
    blocks: int = 6  # ResNet blocks (CycleGAN) or residual dense blocks (ECycleGAN)
    sub_blocks: int = 3  # ECycleGAN: sub-blocks per dense block
    alpha: float = 0.5  # ECycleGAN: residual scaling
    d_layers: int = 3
    gan_loss: str = "lsgan"
    lambda_cyc: float = 10.0
    lambda_idt: float = 0.5  # identity loss weight, times lambda_cyc
    lambda_gp: float = 10.0
    cycle_loss: str = "l1"  # or "perceptual"
    vgg_weights: str = "imagenet"  # "random": an untrained VGG19 (no download; a weaker perceptual loss)
    vgg_layers: int = 16  # VGG19 feature modules used (16 = up to relu3_1)
    pool_size: int = 50
    label_flip: float = 0.0  # probability of swapping real/fake targets for the critic
    instance_noise: float = 0.0  # sigma of Gaussian noise on critic inputs at the start, decays linearly to 0
    g_per_d: int = 1  # generator updates per critic update (alternate training, e.g. 5 or 10)
    iterations: int = 20_000
    batch_size: int = 8
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    decay_start: float = 0.5
    log_every: int = 100
    sample_every: int = 1000
    checkpoint_every: int = 1000
    seed: int = 0
    precision: str = (
        "auto"  # training steps: auto (bf16 where the device has bf16 units) | fp32 (config `precision: fp32`)
    )

    def __post_init__(self) -> None:
        if self.variant not in CYCLEGAN_VARIANTS:
            raise ValueError(f"variant must be one of {CYCLEGAN_VARIANTS}, got {self.variant!r}")
        if self.gan_loss not in CYCLEGAN_LOSSES:
            raise ValueError(f"gan_loss must be one of {CYCLEGAN_LOSSES}, got {self.gan_loss!r}")
        if self.cycle_loss not in ("l1", "perceptual"):
            raise ValueError(f"cycle_loss must be 'l1' or 'perceptual', got {self.cycle_loss!r}")

    def build_generator(self) -> TranslationGenerator:
        from synthfer.models.cyclegan import TranslationGenerator  # codemap: skip (its trainer imports the network)

        sub = self.sub_blocks if translator(self.variant).dense_blocks else 0
        return TranslationGenerator(self.ngf, self.blocks, sub, self.alpha)

    def build_discriminator(self) -> PatchDiscriminator:
        from synthfer.models.cyclegan import PatchDiscriminator  # codemap: skip (its trainer imports the network)

        return PatchDiscriminator(self.ndf, self.d_layers, norm=self.gan_loss == "lsgan")


@dataclass(frozen=True)
class IdentityGANConfig:
    """config.yaml `identity_gan:`: the source of new identities (DCGAN, or the paper's StyleGAN-style generator)."""

    image_size: int = 64
    architecture: str = "dcgan"  # or "stylegan"
    z_dim: int = 64
    w_dim: int = 128  # stylegan
    mapping_layers: int = 4  # stylegan
    width: int = 64
    iterations: int = 20_000
    batch_size: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    r1_gamma: float = 0.0  # R1 penalty weight on real faces (StyleGAN2: 10 at 64 px scale)
    ema_decay: float = 0.0  # EMA of the generator used for sampling; 0 = off
    w_avg_beta: float = 0.995  # stylegan: running mean of w, for truncation
    truncation: float = 1.0  # stylegan sampling: w pulled towards its mean (0.7 is usual); 1 = none
    log_every: int = 100
    sample_every: int = 1000
    checkpoint_every: int = 1000  # also on SIGTERM / SIGUSR1; 0 = only on a signal
    seed: int = 0
    precision: str = (
        "auto"  # training steps: auto (bf16 where the device has bf16 units) | fp32 (config `precision: fp32`)
    )

    def __post_init__(self) -> None:
        if self.architecture not in IDENTITY_GAN_ARCHITECTURES:
            raise ValueError(f"architecture must be one of {IDENTITY_GAN_ARCHITECTURES}, got {self.architecture!r}")

    def build_generator(self) -> torch.nn.Module:
        from synthfer.models.identity_gan import IdentityGenerator  # codemap: skip (its trainer imports the network)
        from synthfer.models.stylegan import StyleIdentityGenerator  # codemap: skip (its trainer imports the network)

        if self.architecture == "stylegan":
            return StyleIdentityGenerator(self.image_size, self.z_dim, self.w_dim, self.mapping_layers, self.width)
        return IdentityGenerator(self.image_size, self.z_dim, self.width)

    def build_discriminator(self) -> torch.nn.Module:
        from synthfer.models.identity_gan import (
            IdentityDiscriminator,  # codemap: skip (its trainer imports the network)
        )
        from synthfer.models.stylegan import (
            StyleIdentityDiscriminator,  # codemap: skip (its trainer imports the network)
        )

        if self.architecture == "stylegan":
            return StyleIdentityDiscriminator(self.image_size, self.width)
        return IdentityDiscriminator(self.image_size, self.width)


@dataclass(frozen=True)
class AmbiguityFilterConfig:
    """config.yaml `datasets.<name>.filter_ambiguous`: what share to keep and how to train the scorer."""

    keep: float = 0.9
    folds: int = 5
    max_epochs: int = 20
    patience: int = 3
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    image_size: int = 64
    precision: str = "auto"  # the scorer's training precision: config.yaml `classifier.precision`


@dataclass(frozen=True)
class MinorityConfig:
    """config.yaml `minority:` (study 2): the target emotion and the repeated cross-validation."""

    target: str = "disgust"
    folds: int = 10
    repeats: int = 3
    val_share: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.target not in EMOTIONS:
            raise ValueError(f"minority target must be one of {EMOTIONS}, got {self.target!r}")


@dataclass(frozen=True)
class IdentityConfig:
    """config.yaml `generate:`: which source, its seed, and the source's own settings."""

    identities: str = "gan"
    seed: int = 0
    truncation: float = 1.0  # GAN sources with a mapping network (StyleGAN-style)
    torchscript: str = ""  # path of the user's TorchScript generator (z -> image in [-1, 1])
    z_dim: int = 512  # its latent size
    align: bool = True  # detect and eye-align its images as the real faces are

    def __post_init__(self) -> None:
        if self.identities not in IDENTITY_SOURCES:
            raise ValueError(f"generate.identities must be one of {IDENTITY_SOURCES}, got {self.identities!r}")


@dataclass(frozen=True)
class UnpackLimits:
    """Caps on what one archive may unpack to (config `unpack_limits:`); the defaults fit the largest
    dataset of the studies (AffectNet, ~120 GB) with room to spare."""

    max_total_gb: float = 500.0
    max_member_gb: float = 50.0
    max_members: int = 5_000_000


@dataclass(frozen=True)
class PrepareConfig:
    """Preprocessing shared by every dataset of a run (built once from config.yaml `preprocess:`)."""

    image_size: int
    eye_distance: float = 0.38
    eye_height: float = 0.38
    max_rejected_fraction: float = 0.2
    min_detection_confidence: float = 0.5
