"""Procedural face renderer for the embedded demo dataset.

No real expression data can ship with the project, so the demo draws its own faces: an identity is a
set of facial geometry and colour parameters, an expression is a set of FACS action units with
intensities (Ekman prototypes, overlapping on purpose), and every image gets pose, lighting and
imaging nuisance. Everything is a pure function of the seeds, so a dataset is reproducible bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from synthfer.labels import DOMAINS

ACTION_UNITS: tuple[str, ...] = (
    "AU1",  # inner brow raiser
    "AU2",  # outer brow raiser
    "AU4",  # brow lowerer
    "AU5",  # upper lid raiser
    "AU6",  # cheek raiser
    "AU7",  # lid tightener
    "AU9",  # nose wrinkler
    "AU10",  # upper lip raiser
    "AU12",  # lip corner puller
    "AU15",  # lip corner depressor
    "AU20",  # lip stretcher
    "AU23",  # lip tightener / pressor
    "AU25",  # lips part
    "AU26",  # jaw drop
)

PROTOTYPES: dict[str, dict[str, float]] = {
    "neutral": {},
    "happiness": {"AU6": 1.0, "AU12": 1.0, "AU25": 0.5},
    "sadness": {"AU1": 1.0, "AU4": 0.6, "AU15": 1.0},
    "surprise": {"AU1": 1.0, "AU2": 1.0, "AU5": 1.0, "AU25": 1.0, "AU26": 1.0},
    "fear": {"AU1": 1.0, "AU2": 0.7, "AU4": 0.7, "AU5": 1.0, "AU20": 1.0, "AU25": 0.8, "AU26": 0.3},
    "anger": {"AU4": 1.0, "AU5": 0.3, "AU7": 1.0, "AU23": 1.0},
    "disgust": {"AU4": 0.4, "AU9": 1.0, "AU10": 1.0, "AU15": 0.6},
}
"""Ekman prototypes as action-unit weights; fear/surprise and anger/disgust share units on purpose."""

SUPERSAMPLE = 2


@dataclass(frozen=True)
class Identity:
    """Geometry and colour of one subject; face-frame units, face half-width about 1."""

    face_w: float
    elongation: float
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    hair_style: int  # 0 short, 1 long, 2 bald
    eye_y: float
    eye_sep: float
    eye_w: float
    eye_h: float
    brow_gap: float
    brow_thick: float
    brow_slope: float
    nose_len: float
    nose_w: float
    mouth_y: float
    mouth_w: float
    lip_up: float
    lip_lo: float
    glasses: bool
    beard: bool
    asym: tuple[float, float, float]  # eye height, brow height, mouth corner height differences
    resting: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class IdentityPrior:
    """Population a database draws its subjects from; shifting it is one source of domain gap."""

    skin_range: tuple[float, float] = (0.0, 1.0)
    elongation_range: tuple[float, float] = (1.15, 1.4)
    p_glasses: float = 0.15
    p_beard: float = 0.15
    p_bald: float = 0.1
    hair_dark_range: tuple[float, float] = (0.0, 1.0)
    resting_strength: float = 0.15


@dataclass(frozen=True)
class Nuisance:
    """Imaging conditions of one image."""

    angle: float = 0.0  # degrees
    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)  # fraction of image size
    light_dir: float = 0.0  # radians
    light_strength: float = 0.0  # relative brightness change across the face
    contrast: float = 1.0
    brightness: float = 0.0
    blur: float = 0.0  # Gaussian radius in output pixels
    noise: float = 0.0  # std of additive Gaussian noise, 0..255 scale
    background: str = "plain"  # plain | gradient | clutter
    background_tone: float = 0.5
    grayscale: bool = False
    seed: int = 0


@dataclass(frozen=True)
class ImagingPrior:
    """Range of nuisance a database shows (studio vs in-the-wild)."""

    angle: float = 3.0
    scale: tuple[float, float] = (0.95, 1.05)
    shift: float = 0.02
    light_strength: tuple[float, float] = (0.0, 0.1)
    contrast: tuple[float, float] = (0.9, 1.1)
    brightness: tuple[float, float] = (-10.0, 10.0)
    blur: tuple[float, float] = (0.0, 0.3)
    noise: tuple[float, float] = (0.0, 2.0)
    backgrounds: tuple[str, ...] = ("plain",)
    p_grayscale: float = 0.0


def _lerp(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


def sample_identity(rng: np.random.Generator, prior: IdentityPrior = IdentityPrior()) -> Identity:
    """Draw one subject from a population prior."""
    skin_t = rng.uniform(*prior.skin_range)
    skin = _lerp((250, 222, 196), (105, 70, 50), skin_t)
    hair_t = rng.uniform(*prior.hair_dark_range)
    hair = _lerp((205, 170, 110), (25, 20, 18), hair_t)
    style = 2 if rng.random() < prior.p_bald else int(rng.integers(0, 2))
    resting_units = rng.choice(ACTION_UNITS, size=2, replace=False)
    resting = {str(u): float(rng.uniform(0, prior.resting_strength)) for u in resting_units}
    return Identity(
        face_w=float(rng.uniform(0.82, 1.0)),
        elongation=float(rng.uniform(*prior.elongation_range)),
        skin=skin,
        hair=hair,
        hair_style=style,
        eye_y=float(rng.uniform(-0.22, -0.08)),
        eye_sep=float(rng.uniform(0.33, 0.44)),
        eye_w=float(rng.uniform(0.13, 0.19)),
        eye_h=float(rng.uniform(0.055, 0.085)),
        brow_gap=float(rng.uniform(0.14, 0.22)),
        brow_thick=float(rng.uniform(0.035, 0.075)),
        brow_slope=float(rng.uniform(-0.04, 0.05)),
        nose_len=float(rng.uniform(0.28, 0.42)),
        nose_w=float(rng.uniform(0.09, 0.15)),
        mouth_y=float(rng.uniform(0.5, 0.62)),
        mouth_w=float(rng.uniform(0.22, 0.32)),
        lip_up=float(rng.uniform(0.03, 0.06)),
        lip_lo=float(rng.uniform(0.04, 0.08)),
        glasses=bool(rng.random() < prior.p_glasses),
        beard=bool(rng.random() < prior.p_beard),
        asym=tuple(float(v) for v in rng.normal(0, 0.012, size=3)),  # type: ignore[arg-type]
        resting=resting,
    )


def expression_units(emotion: str, intensity: float, rng: np.random.Generator) -> dict[str, float]:
    """Action-unit intensities of one expression: the prototype scaled by intensity, jittered per unit."""
    if emotion not in PROTOTYPES:
        raise ValueError(f"unknown expression {emotion!r}; allowed: {', '.join(DOMAINS)}")
    return {
        unit: float(np.clip(weight * intensity * rng.uniform(0.8, 1.15), 0.0, 1.2))
        for unit, weight in PROTOTYPES[emotion].items()
    }


def sample_nuisance(rng: np.random.Generator, prior: ImagingPrior = ImagingPrior()) -> Nuisance:
    """Draw the imaging conditions of one image."""
    return Nuisance(
        angle=float(rng.uniform(-prior.angle, prior.angle)),
        scale=float(rng.uniform(*prior.scale)),
        shift=(float(rng.uniform(-prior.shift, prior.shift)), float(rng.uniform(-prior.shift, prior.shift))),
        light_dir=float(rng.uniform(0, 2 * np.pi)),
        light_strength=float(rng.uniform(*prior.light_strength)),
        contrast=float(rng.uniform(*prior.contrast)),
        brightness=float(rng.uniform(*prior.brightness)),
        blur=float(rng.uniform(*prior.blur)),
        noise=float(rng.uniform(*prior.noise)),
        background=str(rng.choice(prior.backgrounds)),
        background_tone=float(rng.uniform(0.1, 0.9)),
        grayscale=bool(rng.random() < prior.p_grayscale),
        seed=int(rng.integers(0, 2**31 - 1)),
    )


def _bezier(p0: np.ndarray, mid: np.ndarray, p2: np.ndarray, n: int = 12) -> list[tuple[float, float]]:
    """Quadratic curve from p0 to p2 that passes through `mid` at its middle."""
    ctrl = 2 * mid - 0.5 * (p0 + p2)
    t = np.linspace(0, 1, n)[:, None]
    pts = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * ctrl + t**2 * p2
    return [tuple(p) for p in pts]


class _Canvas:
    """Draws in face-frame coordinates onto an RGBA layer."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.center = np.array([size / 2, size * 0.5])
        self.unit = size * 0.27
        self.layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.layer)

    def px(self, x: float, y: float) -> tuple[float, float]:
        return (float(self.center[0] + x * self.unit), float(self.center[1] + y * self.unit))

    def pts(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [self.px(x, y) for x, y in points]

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, fill=None, outline=None, width: float = 0) -> None:
        x0, y0 = self.px(cx - rx, cy - ry)
        x1, y1 = self.px(cx + rx, cy + ry)
        self.draw.ellipse(
            (x0, y0, x1, y1), fill=fill, outline=outline, width=max(1, int(width * self.unit)) if outline else 0
        )

    def polygon(self, points: list[tuple[float, float]], fill) -> None:
        self.draw.polygon(self.pts(points), fill=fill)

    def line(self, points: list[tuple[float, float]], fill, width: float) -> None:
        self.draw.line(self.pts(points), fill=fill, width=max(1, int(round(width * self.unit))), joint="curve")


def _shade(color: tuple[int, int, int], factor: float, alpha: int = 255) -> tuple[int, int, int, int]:
    return (*(int(np.clip(c * factor, 0, 255)) for c in color), alpha)  # type: ignore[return-value]


def _draw_face(cv: _Canvas, ident: Identity, au: dict[str, float]) -> np.ndarray:
    """Draw head, features and expression; returns the two eye centres in face-frame units."""
    a = {u: au.get(u, 0.0) + ident.resting.get(u, 0.0) for u in ACTION_UNITS}
    w = ident.face_w
    h = w * ident.elongation
    jaw = 0.12 * a["AU26"]
    skin = ident.skin
    dark = _shade(skin, 0.35)
    hair = (*ident.hair, 255)

    if ident.hair_style == 1:  # long hair behind the head
        cv.polygon([(-w * 1.12, -h * 0.3), (w * 1.12, -h * 0.3), (w * 1.2, h * 0.9), (-w * 1.2, h * 0.9)], fill=hair)
    if ident.hair_style != 2:
        cv.ellipse(0, -h * 0.22, w * 1.08, h * 0.85, fill=hair)
    cv.ellipse(-w * 0.98, ident.eye_y + 0.08, 0.12, 0.2, fill=_shade(skin, 0.92))
    cv.ellipse(w * 0.98, ident.eye_y + 0.08, 0.12, 0.2, fill=_shade(skin, 0.92))
    # head: upper half-ellipse plus a lower half that the jaw drop lengthens
    theta = np.linspace(0, 2 * np.pi, 72)
    ys = np.where(np.sin(theta) > 0, (h + jaw) * np.sin(theta), h * np.sin(theta))
    cv.polygon(list(zip(w * np.cos(theta), ys)), fill=_shade(skin, 1.0))
    if ident.hair_style != 2:  # fringe
        fr = np.linspace(np.pi * 1.08, np.pi * 1.92, 24)
        fringe = [(w * 1.02 * np.cos(t), h * 1.02 * np.sin(t)) for t in fr]
        fringe += [(w * 0.7, -h * 0.62), (0.0, -h * 0.7), (-w * 0.7, -h * 0.62)]
        cv.polygon(fringe, fill=hair)
    if ident.beard:
        bt = np.linspace(0.05 * np.pi, 0.95 * np.pi, 30)
        beard = [(w * np.cos(t), (h + jaw) * np.sin(t)) for t in bt]
        beard += [(-w * 0.55, ident.mouth_y - 0.12), (w * 0.55, ident.mouth_y - 0.12)][::-1]
        cv.polygon(beard, fill=_shade(ident.hair, 1.0, 200))

    # cheeks (AU6 raises them: round highlights and a lower-lid bulge)
    for side in (-1, 1):
        cx = side * (ident.eye_sep + 0.05)
        cy = ident.eye_y + 0.32 - 0.08 * a["AU6"]
        cv.ellipse(cx, cy, 0.2, 0.13 + 0.03 * a["AU6"], fill=_shade(skin, 1.0 + 0.06 * a["AU6"]))

    # forehead wrinkles from raised brows
    raise_ = max(a["AU1"], a["AU2"])
    if raise_ > 0.3:
        alpha = int(min(255, 200 * (raise_ - 0.3)))
        for k in range(3):
            y = ident.eye_y - ident.brow_gap - 0.16 - 0.07 * k
            cv.line(
                _bezier(np.array([-0.35, y]), np.array([0, y - 0.02]), np.array([0.35, y])),
                _shade(skin, 0.6, alpha),
                0.012,
            )
    if a["AU4"] > 0.3:  # frown lines between the brows
        alpha = int(min(255, 260 * (a["AU4"] - 0.3)))
        for side in (-1, 1):
            x = side * 0.05
            cv.line(
                [(x, ident.eye_y - 0.02), (x * 1.4, ident.eye_y - ident.brow_gap - 0.05)],
                _shade(skin, 0.55, alpha),
                0.014,
            )

    eyes = []
    for side in (-1, 1):  # -1 = image-left eye
        ex = side * ident.eye_sep
        ey = ident.eye_y + side * ident.asym[0]
        eyes.append((ex, ey))
        openness = np.clip(1 + 0.9 * a["AU5"] - 0.55 * a["AU7"] - 0.35 * a["AU6"], 0.15, 2.2)
        up = ident.eye_h * openness
        lo = ident.eye_h * np.clip(1 - 0.6 * a["AU6"] - 0.4 * a["AU7"] + 0.3 * a["AU5"], 0.2, 1.5)
        ew = ident.eye_w
        upper = _bezier(np.array([ex - ew, ey]), np.array([ex, ey - up]), np.array([ex + ew, ey]))
        lower = _bezier(np.array([ex + ew, ey]), np.array([ex, ey + lo]), np.array([ex - ew, ey]))
        cv.polygon(upper + lower, fill=(245, 245, 240, 255))
        r = min(up, lo, ew * 0.5) * 0.95
        cv.ellipse(ex, ey + (lo - up) * 0.25, r, r, fill=(40, 32, 28, 255))
        cv.line(upper, dark, 0.022)
        if a["AU6"] > 0.3 or a["AU7"] > 0.3:  # lower-lid bulge
            alpha = int(min(255, 220 * max(a["AU6"], a["AU7"])))
            cv.line(
                _bezier(
                    np.array([ex - ew, ey + lo + 0.03]),
                    np.array([ex, ey + lo + 0.07]),
                    np.array([ex + ew, ey + lo + 0.03]),
                ),
                _shade(skin, 0.65, alpha),
                0.014,
            )

        # brows: inner end raised by AU1, outer by AU2, both lowered and drawn together by AU4
        base = ey - ident.brow_gap - side * ident.asym[1]
        inner = np.array(
            [side * (ident.eye_sep - ew * 0.85 - 0.07 * a["AU4"]), base - 0.13 * a["AU1"] + 0.09 * a["AU4"]]
        )
        outer = np.array(
            [
                side * (ident.eye_sep + ew * 1.15),
                base + ident.brow_slope - 0.13 * a["AU2"] + 0.03 * a["AU4"] - 0.03 * a["AU1"],
            ]
        )
        mid = (inner + outer) / 2 + np.array([0, -0.035 - 0.04 * a["AU2"] + 0.02 * a["AU4"]])
        cv.line(_bezier(inner, mid, outer), _shade(ident.hair, 0.8), ident.brow_thick)

    if ident.glasses:
        for ex, ey in eyes:
            cv.ellipse(ex, ey, ident.eye_w + 0.07, ident.eye_h + 0.09, outline=(30, 30, 30, 255), width=0.018)
        cv.line(
            [(eyes[0][0] + ident.eye_w + 0.07, eyes[0][1]), (eyes[1][0] - ident.eye_w - 0.07, eyes[1][1])],
            (30, 30, 30, 255),
            0.018,
        )

    # nose: bridge, tip and nostrils; AU9 wrinkles the bridge and lifts the wings
    tip_y = ident.eye_y + ident.nose_len + 0.12 - 0.04 * a["AU9"]
    nw = ident.nose_w * (1 + 0.25 * a["AU9"])
    cv.line([(0.02, ident.eye_y + 0.05), (0.04, tip_y - 0.05)], _shade(skin, 0.75), 0.014)
    for side in (-1, 1):
        cv.line(
            _bezier(
                np.array([side * nw, tip_y - 0.04]),
                np.array([side * nw * 0.6, tip_y + 0.02]),
                np.array([side * nw * 0.15, tip_y + 0.01]),
            ),
            _shade(skin, 0.5),
            0.018,
        )
    if a["AU9"] > 0.25:
        alpha = int(min(255, 300 * (a["AU9"] - 0.25)))
        for k in range(3):
            y = ident.eye_y + 0.04 + 0.045 * k
            cv.line([(-0.08, y), (0.08, y + 0.01)], _shade(skin, 0.5, alpha), 0.013)

    # mouth: corners pulled up (AU12), down (AU15), sideways (AU20), pressed (AU23); lips parted (AU25/26)
    my = ident.mouth_y + jaw * 0.5
    half = ident.mouth_w * (1 + 0.22 * a["AU12"] + 0.35 * a["AU20"] - 0.22 * a["AU23"])
    corner_y = my - 0.11 * a["AU12"] + 0.1 * a["AU15"] + 0.02 * a["AU20"] - 0.03 * a["AU10"]
    left = np.array([-half, corner_y - ident.asym[2]])
    right = np.array([half, corner_y + ident.asym[2]])
    press = 1 - 0.6 * a["AU23"]
    gap = 0.03 * a["AU25"] + 0.2 * a["AU26"] + 0.02 * a["AU20"] * a["AU25"]
    top_in = my - 0.01 - 0.05 * a["AU10"] - 0.25 * gap
    bot_in = my + 0.75 * gap
    top_out = top_in - ident.lip_up * press - 0.01
    bot_out = bot_in + ident.lip_lo * press + 0.01
    if max(a["AU12"], a["AU10"], a["AU9"]) > 0.3:  # nasolabial folds
        alpha = int(min(255, 230 * max(a["AU12"], a["AU10"], a["AU9"])))
        for side, c in ((-1, left), (1, right)):
            cv.line(
                _bezier(
                    np.array([side * (nw + 0.04), tip_y - 0.02]),
                    np.array([side * (half + 0.08), (tip_y + c[1]) / 2]),
                    c + np.array([side * 0.06, 0.03]),
                ),
                _shade(skin, 0.6, alpha),
                0.015,
            )
    lip = _shade((int(skin[0] * 0.85 + 30), int(skin[1] * 0.6), int(skin[2] * 0.6)), 1.0)
    outline = _bezier(left, np.array([0, top_out]), right) + _bezier(right, np.array([0, bot_out]), left)
    cv.polygon(outline, fill=lip)
    if gap > 0.012:
        inner_up = _bezier(left, np.array([0, top_in]), right)
        inner_lo = _bezier(right, np.array([0, bot_in]), left)
        cv.polygon(inner_up + inner_lo, fill=(45, 20, 20, 255))
        if a["AU12"] > 0.4 or a["AU10"] > 0.4:  # teeth show in the upper part of the opening
            t = min(0.045, (bot_in - top_in) * 0.45)
            teeth = _bezier(left * 0.8, np.array([0, top_in + 0.005]), right * 0.8) + _bezier(
                right * 0.8, np.array([0, top_in + t]), left * 0.8
            )
            cv.polygon(teeth, fill=(235, 232, 220, 255))
    else:
        cv.line(_bezier(left, np.array([0, (top_in + bot_in) / 2]), right), _shade(skin, 0.3), 0.014)
    return np.array(eyes)


def _background(size: int, nz: Nuisance, rng: np.random.Generator) -> Image.Image:
    tone = int(40 + 180 * nz.background_tone)
    if nz.background == "plain":
        return Image.new("RGB", (size, size), (tone, tone, int(tone * 0.95)))
    yy, xx = np.mgrid[0:size, 0:size] / size
    if nz.background == "gradient":
        angle = rng.uniform(0, 2 * np.pi)
        g = tone + 70 * ((np.cos(angle) * xx + np.sin(angle) * yy) - 0.5)
        arr = np.stack([g, g * rng.uniform(0.85, 1.1), g * rng.uniform(0.85, 1.1)], axis=-1)
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if nz.background == "clutter":
        img = Image.new("RGB", (size, size), (tone, tone, tone))
        d = ImageDraw.Draw(img)
        for _ in range(12):
            x0, y0 = rng.uniform(-0.2, 1.0, size=2) * size
            wdt, hgt = rng.uniform(0.1, 0.6, size=2) * size
            col = tuple(int(v) for v in rng.integers(20, 235, size=3))
            (d.rectangle if rng.random() < 0.5 else d.ellipse)((x0, y0, x0 + wdt, y0 + hgt), fill=col)
        return img.filter(ImageFilter.GaussianBlur(size / 40))
    raise ValueError(f"unknown background {nz.background!r}; allowed: plain, gradient, clutter")


def render_face(
    identity: Identity, units: dict[str, float], nuisance: Nuisance, size: int = 128
) -> tuple[Image.Image, np.ndarray]:
    """Render one RGB face image; returns it with the two eye centres in output pixels (x, y)."""
    big = size * SUPERSAMPLE
    cv = _Canvas(big)
    eyes_face = _draw_face(cv, identity, units)
    eyes_px = np.array([cv.px(x, y) for x, y in eyes_face])

    # pose: rotate and scale about the face centre, then shift
    theta = np.deg2rad(nuisance.angle)
    fwd = nuisance.scale * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    c = cv.center
    t = c + np.array(nuisance.shift) * big
    inv = np.linalg.inv(fwd)
    offset = c - inv @ t
    layer = cv.layer.transform(
        (big, big), Image.Transform.AFFINE, (*inv[0], offset[0], *inv[1], offset[1]), resample=Image.Resampling.BICUBIC
    )
    eyes_px = (fwd @ (eyes_px - c).T).T + t

    rng = np.random.default_rng(nuisance.seed)
    img = _background(big, nuisance, rng)
    img.paste(layer, (0, 0), layer)
    img = img.resize((size, size), Image.Resampling.LANCZOS)
    arr = np.asarray(img, dtype=np.float32)
    yy, xx = np.mgrid[0:size, 0:size] / size - 0.5
    light = 1 + nuisance.light_strength * 2 * (np.cos(nuisance.light_dir) * xx + np.sin(nuisance.light_dir) * yy)
    arr = (arr - 128) * nuisance.contrast + 128 + nuisance.brightness
    arr = arr * light[..., None]
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if nuisance.blur > 0:
        img = img.filter(ImageFilter.GaussianBlur(nuisance.blur))
    arr = np.asarray(img, dtype=np.float32)
    if nuisance.noise > 0:
        arr = arr + rng.normal(0, nuisance.noise, size=arr.shape)
    if nuisance.grayscale:
        arr = np.repeat(arr.mean(axis=-1, keepdims=True), 3, axis=-1)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    return img, eyes_px / SUPERSAMPLE
