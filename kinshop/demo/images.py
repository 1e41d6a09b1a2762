"""Flat illustrations for the demo, drawn with Pillow: a soft gradient, one simple
motif and a short Latin label. Nothing is downloaded and no font file is needed
(Pillow ≥ 10 ships a scalable default font), so the demo works offline.

Pictures are drawn at twice their size and scaled down, which smooths the edges.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFont

from kinshop.demo.data import Artwork

PRODUCT_SIZE = 640
AVATAR_SIZE = 256
SUPERSAMPLE = 2

RGB = tuple[int, int, int]


@functools.cache
def product_image(artwork: Artwork) -> bytes:
    """A square JPEG of the product's motif with its label on a pill at the bottom."""
    size = PRODUCT_SIZE * SUPERSAMPLE
    canvas = _background(size, artwork)
    draw = ImageDraw.Draw(canvas, "RGBA")
    motif = MOTIFS.get(artwork.motif, _draw_box)
    motif(draw, _Frame(size, centre_y=0.45), artwork)
    _label(draw, size, artwork)
    return _encode(canvas, PRODUCT_SIZE, "JPEG")


@functools.cache
def avatar_image(artwork: Artwork) -> bytes:
    """A round-friendly square PNG with the keeper's initials (the page clips it to a circle)."""
    size = AVATAR_SIZE * SUPERSAMPLE
    canvas = _background(size, artwork)
    draw = ImageDraw.Draw(canvas, "RGBA")
    font = ImageFont.load_default(size=int(size * 0.38))
    draw.text(
        (size / 2, size / 2),
        artwork.label[:3],
        font=font,
        fill=(255, 255, 255, 255),
        anchor="mm",
    )
    return _encode(canvas, AVATAR_SIZE, "PNG")


# ---- drawing helpers ------------------------------------------------------------


class _Frame:
    """Maps fractions of the picture (0–1) to pixels, around a motif centre."""

    def __init__(self, size: int, centre_y: float) -> None:
        self.size = size
        self.centre_y = centre_y

    def __call__(self, *fractions: float) -> list[float]:
        return [f * self.size for f in fractions]


def _rgb(hex_colour: str) -> RGB:
    value = hex_colour.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def _rgba(colour: RGB, alpha: int = 255) -> tuple[int, int, int, int]:
    return (*colour, alpha)


def _shade(colour: RGB, factor: float) -> RGB:
    """factor < 1 darkens, > 1 lightens towards white."""
    if factor <= 1:
        return (int(colour[0] * factor), int(colour[1] * factor), int(colour[2] * factor))
    towards = factor - 1
    return (
        int(colour[0] + (255 - colour[0]) * towards),
        int(colour[1] + (255 - colour[1]) * towards),
        int(colour[2] + (255 - colour[2]) * towards),
    )


def _background(size: int, artwork: Artwork) -> Image.Image:
    top, bottom = _rgb(artwork.top), _rgb(artwork.bottom)
    mask = Image.linear_gradient("L").resize((size, size))
    canvas = Image.composite(
        Image.new("RGBA", (size, size), _rgba(bottom)),
        Image.new("RGBA", (size, size), _rgba(top)),
        mask,
    )
    # Two large pale discs give depth without distracting from the motif.
    glow = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    glow_draw = ImageDraw.Draw(glow)
    glow_draw.ellipse(
        [-0.25 * size, -0.3 * size, 0.55 * size, 0.5 * size], fill=(255, 255, 255, 46)
    )
    glow_draw.ellipse([0.6 * size, 0.55 * size, 1.3 * size, 1.25 * size], fill=(255, 255, 255, 30))
    return Image.alpha_composite(canvas, glow).convert("RGB")


def _label(draw: ImageDraw.ImageDraw, size: int, artwork: Artwork) -> None:
    font = ImageFont.load_default(size=int(size * 0.068))
    text = artwork.label.upper()
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    width, height = right - left, bottom - top
    pad_x, pad_y = size * 0.045, size * 0.026
    centre_x, centre_y = size / 2, size * 0.86
    draw.rounded_rectangle(
        [
            centre_x - width / 2 - pad_x,
            centre_y - height / 2 - pad_y,
            centre_x + width / 2 + pad_x,
            centre_y + height / 2 + pad_y,
        ],
        radius=size,
        fill=(255, 255, 255, 235),
    )
    draw.text(
        (centre_x, centre_y),
        text,
        font=font,
        fill=_rgba(_shade(_rgb(artwork.bottom), 0.42)),
        anchor="mm",
    )


def _shadow(draw: ImageDraw.ImageDraw, f: _Frame, width: float, y: float) -> None:
    draw.ellipse(f(0.5 - width / 2, y - 0.022, 0.5 + width / 2, y + 0.022), fill=(0, 0, 0, 34))


def _encode(canvas: Image.Image, size: int, kind: str) -> bytes:
    image = canvas.resize((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if kind == "JPEG":
        image.save(buffer, "JPEG", quality=86, optimize=True)
    else:
        image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


# ---- motifs -------------------------------------------------------------------------


def _draw_nuts(draw, f: _Frame, artwork: Artwork) -> None:
    shell = _shade(_rgb(artwork.bottom), 0.72)
    dark = _rgb(artwork.accent)
    _shadow(draw, f, 0.62, f.centre_y + 0.2)
    spots = [(0.33, 0.06), (0.5, 0.1), (0.67, 0.06), (0.41, -0.08), (0.59, -0.08), (0.5, -0.2)]
    for x, dy in spots:
        cy = f.centre_y + dy
        box = f(x - 0.1, cy - 0.085, x + 0.1, cy + 0.085)
        draw.ellipse(box, fill=_rgba(shell), outline=_rgba(dark), width=int(f.size * 0.006))
        draw.arc(
            f(x - 0.06, cy - 0.07, x + 0.08, cy + 0.07),
            200,
            330,
            fill=_rgba(dark),
            width=int(f.size * 0.005),
        )
        draw.ellipse(f(x - 0.065, cy - 0.055, x - 0.025, cy - 0.025), fill=(255, 255, 255, 90))


def _draw_jar(draw, f: _Frame, artwork: Artwork) -> None:
    body = _shade(_rgb(artwork.bottom), 0.85)
    lid = _rgb(artwork.accent) if artwork.accent != "#ffffff" else _shade(body, 0.6)
    _shadow(draw, f, 0.46, f.centre_y + 0.24)
    draw.rounded_rectangle(
        f(0.3, f.centre_y - 0.16, 0.7, f.centre_y + 0.24), radius=f.size * 0.06, fill=_rgba(body)
    )
    draw.rounded_rectangle(
        f(0.33, f.centre_y - 0.25, 0.67, f.centre_y - 0.14), radius=f.size * 0.02, fill=_rgba(lid)
    )
    draw.rounded_rectangle(
        f(0.3, f.centre_y - 0.04, 0.7, f.centre_y + 0.12), radius=0, fill=(255, 255, 255, 225)
    )
    draw.ellipse(f(0.455, f.centre_y - 0.005, 0.545, f.centre_y + 0.085), fill=_rgba(lid))
    draw.rounded_rectangle(
        f(0.34, f.centre_y - 0.12, 0.38, f.centre_y + 0.2),
        radius=f.size * 0.02,
        fill=(255, 255, 255, 70),
    )


def _draw_bottle(draw, f: _Frame, artwork: Artwork) -> None:
    body = _shade(_rgb(artwork.bottom), 0.82)
    cap = _shade(body, 0.6) if artwork.accent == "#ffffff" else _rgb(artwork.accent)
    _shadow(draw, f, 0.34, f.centre_y + 0.26)
    draw.rounded_rectangle(
        f(0.37, f.centre_y - 0.1, 0.63, f.centre_y + 0.26), radius=f.size * 0.05, fill=_rgba(body)
    )
    draw.rectangle(f(0.46, f.centre_y - 0.17, 0.54, f.centre_y - 0.09), fill=_rgba(cap))
    draw.rounded_rectangle(
        f(0.43, f.centre_y - 0.24, 0.57, f.centre_y - 0.16), radius=f.size * 0.015, fill=_rgba(cap)
    )
    draw.rectangle(f(0.56, f.centre_y - 0.22, 0.64, f.centre_y - 0.195), fill=_rgba(cap))
    draw.rounded_rectangle(
        f(0.4, f.centre_y + 0.0, 0.6, f.centre_y + 0.14),
        radius=f.size * 0.01,
        fill=(255, 255, 255, 220),
    )
    draw.rectangle(f(0.43, f.centre_y + 0.05, 0.57, f.centre_y + 0.065), fill=_rgba(cap))
    draw.rounded_rectangle(
        f(0.395, f.centre_y - 0.07, 0.42, f.centre_y + 0.22),
        radius=f.size * 0.012,
        fill=(255, 255, 255, 70),
    )


def _draw_tube(draw, f: _Frame, artwork: Artwork) -> None:
    body = _shade(_rgb(artwork.bottom), 0.88)
    cap = _shade(body, 0.62)
    cy = f.centre_y
    _shadow(draw, f, 0.3, cy + 0.27)
    draw.polygon(
        [
            tuple(f(x, y))
            for x, y in [(0.33, cy - 0.25), (0.67, cy - 0.25), (0.6, cy + 0.15), (0.4, cy + 0.15)]
        ],
        fill=_rgba(body),
    )
    draw.rectangle(f(0.32, cy - 0.27, 0.68, cy - 0.235), fill=_rgba(_shade(body, 0.8)))
    for i in range(7):
        x = 0.345 + i * 0.052
        draw.line(
            f(x, cy - 0.265, x, cy - 0.24),
            fill=_rgba(_shade(body, 0.65)),
            width=int(f.size * 0.004),
        )
    draw.rounded_rectangle(
        f(0.41, cy + 0.14, 0.59, cy + 0.26), radius=f.size * 0.02, fill=_rgba(cap)
    )
    draw.rounded_rectangle(
        f(0.4, cy - 0.15, 0.6, cy + 0.02), radius=f.size * 0.015, fill=(255, 255, 255, 215)
    )
    draw.ellipse(f(0.47, cy - 0.1, 0.53, cy - 0.04), fill=_rgba(cap))
    draw.rectangle(f(0.43, cy - 0.02, 0.57, cy - 0.008), fill=_rgba(_shade(body, 0.8)))


def _draw_box(draw, f: _Frame, artwork: Artwork) -> None:
    box = _shade(_rgb(artwork.bottom), 0.8)
    ribbon = _rgb(artwork.accent)
    cy = f.centre_y
    _shadow(draw, f, 0.58, cy + 0.23)
    draw.rectangle(f(0.24, cy - 0.1, 0.76, cy + 0.22), fill=_rgba(box))
    draw.rectangle(f(0.21, cy - 0.17, 0.79, cy - 0.08), fill=_rgba(_shade(box, 0.88)))
    draw.rectangle(f(0.465, cy - 0.17, 0.535, cy + 0.22), fill=_rgba(ribbon))
    draw.rectangle(f(0.21, cy - 0.14, 0.79, cy - 0.11), fill=_rgba(ribbon))
    draw.polygon(
        [tuple(f(x, y)) for x, y in [(0.5, cy - 0.17), (0.36, cy - 0.27), (0.36, cy - 0.14)]],
        fill=_rgba(ribbon),
    )
    draw.polygon(
        [tuple(f(x, y)) for x, y in [(0.5, cy - 0.17), (0.64, cy - 0.27), (0.64, cy - 0.14)]],
        fill=_rgba(ribbon),
    )
    draw.ellipse(f(0.47, cy - 0.2, 0.53, cy - 0.14), fill=_rgba(_shade(ribbon, 0.8)))


def _draw_pouch(draw, f: _Frame, artwork: Artwork) -> None:
    bag = _shade(_rgb(artwork.bottom), 0.9)
    fill_colour = _rgb(artwork.accent)
    cy = f.centre_y
    _shadow(draw, f, 0.5, cy + 0.25)
    draw.polygon(
        [
            tuple(f(x, y))
            for x, y in [(0.31, cy - 0.24), (0.69, cy - 0.24), (0.73, cy + 0.24), (0.27, cy + 0.24)]
        ],
        fill=_rgba(bag),
    )
    draw.rectangle(f(0.31, cy - 0.2, 0.69, cy - 0.185), fill=_rgba(_shade(bag, 0.75)))
    draw.ellipse(f(0.38, cy - 0.1, 0.62, cy + 0.14), fill=(255, 255, 255, 220))
    for x, y in [(0.45, -0.03), (0.53, -0.01), (0.48, 0.06), (0.56, 0.07), (0.44, 0.05)]:
        draw.ellipse(f(x - 0.03, cy + y - 0.022, x + 0.03, cy + y + 0.022), fill=_rgba(fill_colour))


def _draw_cookies(draw, f: _Frame, artwork: Artwork) -> None:
    dough = _shade(_rgb(artwork.bottom), 1.25)
    edge = _shade(_rgb(artwork.bottom), 0.85)
    dots = _rgb(artwork.accent)
    cy = f.centre_y
    _shadow(draw, f, 0.66, cy + 0.2)
    for x, dy, r in [(0.36, 0.05, 0.15), (0.64, 0.05, 0.15), (0.5, -0.1, 0.16)]:
        draw.ellipse(
            f(x - r, cy + dy - r, x + r, cy + dy + r),
            fill=_rgba(dough),
            outline=_rgba(edge),
            width=int(f.size * 0.012),
        )
        for angle in range(0, 360, 72):
            px = x + math.cos(math.radians(angle + 20)) * r * 0.5
            py = cy + dy + math.sin(math.radians(angle + 20)) * r * 0.5
            draw.ellipse(f(px - 0.016, py - 0.012, px + 0.016, py + 0.012), fill=_rgba(dots))


def _leaf(draw, f: _Frame, x: float, y: float, length: float, angle: float, colour: RGB) -> None:
    points = []
    for step in range(41):
        t = step / 40
        half_width = math.sin(math.pi * t) * length * 0.28
        points.append((t * length, half_width))
    points += [(t, -w) for t, w in reversed(points)]
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    rotated = [tuple(f(x + px * cos - py * sin, y + px * sin + py * cos)) for px, py in points]
    draw.polygon(rotated, fill=_rgba(colour))
    tip = tuple(f(x + length * 0.92 * cos, y + length * 0.92 * sin))
    draw.line([tuple(f(x, y)), tip], fill=(255, 255, 255, 150), width=int(f.size * 0.006))


def _draw_leaves(draw, f: _Frame, artwork: Artwork) -> None:
    leaf = _rgb(artwork.accent)
    light = _shade(_rgb(artwork.bottom), 0.85)
    cy = f.centre_y
    _shadow(draw, f, 0.4, cy + 0.2)
    draw.line(
        f(0.5, cy + 0.19, 0.5, cy - 0.05), fill=_rgba(_shade(leaf, 0.8)), width=int(f.size * 0.012)
    )
    _leaf(draw, f, 0.5, cy + 0.05, 0.3, -140, light)
    _leaf(draw, f, 0.5, cy + 0.05, 0.3, -40, light)
    _leaf(draw, f, 0.5, cy + 0.12, 0.34, -90, leaf)
    _leaf(draw, f, 0.5, cy + 0.18, 0.22, -165, leaf)
    _leaf(draw, f, 0.5, cy + 0.18, 0.22, -15, leaf)


def _draw_tin(draw, f: _Frame, artwork: Artwork) -> None:
    body = _rgb(artwork.accent)
    cy = f.centre_y
    _shadow(draw, f, 0.44, cy + 0.24)
    draw.rectangle(f(0.3, cy - 0.17, 0.7, cy + 0.2), fill=_rgba(body))
    draw.ellipse(f(0.3, cy + 0.15, 0.7, cy + 0.25), fill=_rgba(body))
    draw.ellipse(f(0.3, cy - 0.22, 0.7, cy - 0.12), fill=_rgba(_shade(body, 1.35)))
    draw.rectangle(f(0.3, cy - 0.05, 0.7, cy + 0.09), fill=(255, 255, 255, 225))
    _leaf(draw, f, 0.43, cy + 0.05, 0.14, -35, body)
    draw.rectangle(f(0.33, cy - 0.14, 0.36, cy + 0.19), fill=(255, 255, 255, 60))


def _draw_cup(draw, f: _Frame, artwork: Artwork) -> None:
    cup = (255, 255, 255)
    tea = _shade(_rgb(artwork.bottom), 0.9)
    cy = f.centre_y
    _shadow(draw, f, 0.6, cy + 0.2)
    draw.ellipse(f(0.2, cy + 0.12, 0.8, cy + 0.22), fill=_rgba(_shade(tea, 1.5)))
    draw.chord(f(0.28, cy - 0.2, 0.72, cy + 0.2), 0, 180, fill=_rgba(cup))
    draw.ellipse(f(0.28, cy - 0.04, 0.72, cy + 0.04), fill=_rgba(tea))
    draw.arc(f(0.64, cy + 0.0, 0.78, cy + 0.12), -90, 90, fill=_rgba(cup), width=int(f.size * 0.02))
    for x in (0.42, 0.5, 0.58):
        draw.arc(
            f(x - 0.03, cy - 0.24, x + 0.03, cy - 0.16),
            90,
            270,
            fill=(255, 255, 255, 200),
            width=int(f.size * 0.008),
        )
        draw.arc(
            f(x - 0.03, cy - 0.16, x + 0.03, cy - 0.08),
            -90,
            90,
            fill=(255, 255, 255, 200),
            width=int(f.size * 0.008),
        )


def _draw_teapot(draw, f: _Frame, artwork: Artwork) -> None:
    pot = _shade(_rgb(artwork.bottom), 0.82)
    dark = _rgb(artwork.accent)
    cy = f.centre_y
    _shadow(draw, f, 0.66, cy + 0.2)
    draw.polygon(
        [
            tuple(f(x, y))
            for x, y in [(0.31, cy + 0.02), (0.17, cy - 0.12), (0.2, cy - 0.14), (0.35, cy - 0.04)]
        ],
        fill=_rgba(pot),
    )
    draw.arc(f(0.52, cy - 0.1, 0.7, cy + 0.1), -90, 90, fill=_rgba(dark), width=int(f.size * 0.02))
    draw.ellipse(f(0.27, cy - 0.12, 0.63, cy + 0.2), fill=_rgba(pot))
    draw.chord(f(0.35, cy - 0.17, 0.55, cy - 0.07), 180, 360, fill=_rgba(dark))
    draw.ellipse(f(0.43, cy - 0.2, 0.47, cy - 0.16), fill=_rgba(dark))
    for i in range(3):
        y = cy - 0.04 + i * 0.07
        draw.line(f(0.3, y, 0.6, y), fill=_rgba(_shade(pot, 0.85)), width=int(f.size * 0.005))
    draw.rounded_rectangle(
        f(0.66, cy + 0.06, 0.8, cy + 0.19), radius=f.size * 0.02, fill=_rgba(pot)
    )
    draw.rectangle(f(0.66, cy + 0.06, 0.8, cy + 0.08), fill=_rgba(dark))


def _draw_masks(draw, f: _Frame, artwork: Artwork) -> None:
    sheet = _shade(_rgb(artwork.bottom), 0.85)
    cy = f.centre_y
    _shadow(draw, f, 0.5, cy + 0.25)
    for i, (dx, dy) in enumerate([(0.06, 0.04), (0.03, 0.02), (0.0, 0.0)]):
        colour = _shade(sheet, 1.0 + 0.2 * (2 - i)) if i < 2 else sheet
        draw.rounded_rectangle(
            f(0.3 + dx, cy - 0.22 + dy, 0.66 + dx, cy + 0.22 + dy),
            radius=f.size * 0.03,
            fill=_rgba(colour),
        )
    face = (255, 255, 255, 235)
    draw.ellipse(f(0.36, cy - 0.16, 0.6, cy + 0.14), fill=face)
    draw.ellipse(f(0.41, cy - 0.07, 0.46, cy - 0.04), fill=_rgba(sheet))
    draw.ellipse(f(0.5, cy - 0.07, 0.55, cy - 0.04), fill=_rgba(sheet))
    draw.arc(
        f(0.44, cy + 0.0, 0.52, cy + 0.08), 20, 160, fill=_rgba(sheet), width=int(f.size * 0.008)
    )


def _draw_lipstick(draw, f: _Frame, artwork: Artwork) -> None:
    tube = _shade(_rgb(artwork.bottom), 0.78)
    balm = _shade(_rgb(artwork.bottom), 1.45)
    cy = f.centre_y
    _shadow(draw, f, 0.5, cy + 0.24)
    draw.rounded_rectangle(
        f(0.3, cy - 0.02, 0.44, cy + 0.24), radius=f.size * 0.02, fill=_rgba(tube)
    )
    draw.rectangle(f(0.32, cy - 0.08, 0.42, cy - 0.02), fill=_rgba(_shade(tube, 0.8)))
    draw.chord(f(0.33, cy - 0.2, 0.41, cy - 0.02), 180, 360, fill=_rgba(balm))
    draw.rectangle(f(0.33, cy - 0.11, 0.41, cy - 0.07), fill=_rgba(balm))
    draw.rounded_rectangle(
        f(0.54, cy - 0.18, 0.7, cy + 0.24), radius=f.size * 0.02, fill=_rgba(tube)
    )
    draw.rectangle(f(0.54, cy + 0.02, 0.7, cy + 0.06), fill=(255, 255, 255, 200))


MOTIFS: dict[str, Callable[[ImageDraw.ImageDraw, _Frame, Artwork], None]] = {
    "nuts": _draw_nuts,
    "jar": _draw_jar,
    "bottle": _draw_bottle,
    "tube": _draw_tube,
    "box": _draw_box,
    "pouch": _draw_pouch,
    "cookies": _draw_cookies,
    "leaves": _draw_leaves,
    "tin": _draw_tin,
    "cup": _draw_cup,
    "teapot": _draw_teapot,
    "masks": _draw_masks,
    "lipstick": _draw_lipstick,
}
