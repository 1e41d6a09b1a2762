"""The share poster (海报): a PNG with the product, its price in this shop, who
recommends it and a QR code of the share link, for WeChat moments and print.

Chinese needs a CJK font, which Pillow's default font lacks: we ship a subset
of Noto Sans CJK SC (OFL, see fonts/README.md); a title with a character outside
the subset is drawn with a system CJK font when one is installed."""

from __future__ import annotations

import functools
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import qrcode
from django.conf import settings
from django.db.models import Min
from PIL import Image, ImageDraw, ImageFont, ImageOps

from kinshop.core.money import format_money
from kinshop.sharing.models import ShareLink

logger = logging.getLogger(__name__)

WIDTH, HEIGHT = 750, 1200
PICTURE_HEIGHT = 600  # the picture at the top, full width
MARGIN = 48
QR_SIZE = 232

BACKGROUND = (255, 255, 255)
INK = (34, 34, 34)
MUTED = (120, 120, 120)
PRICE = (226, 54, 54)
BAND = (250, 246, 240)
PALETTE = [(233, 120, 80), (91, 141, 239), (72, 176, 138), (170, 110, 220), (230, 170, 60)]

BUNDLED_FONT = Path(__file__).resolve().parent / "fonts" / "NotoSansSC-Regular-GB2312L1.otf"
# (path, face index in a collection): tried in order after the bundled font.
SYSTEM_FONTS = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
    ("C:/Windows/Fonts/msyh.ttc", 0),
]
_ABSENT = "\U0010fffd"  # a private-use character no font maps: draws as .notdef


@dataclass(frozen=True)
class PosterContent:
    url: str
    title: str
    price: str
    sharer: str
    shop: str
    picture: Image.Image | None
    seed: int


def share_url(code: str) -> str:
    return f"{settings.KINSHOP_PUBLIC_URL.rstrip('/')}/s/{code}"


# Fonts ---------------------------------------------------------------------


def font_candidates() -> list[tuple[str, int]]:
    found = [(str(BUNDLED_FONT), 0)] if BUNDLED_FONT.exists() else []
    return found + [(path, index) for path, index in SYSTEM_FONTS if Path(path).exists()]


@functools.lru_cache(maxsize=64)
def _truetype(path: str, index: int, size: int) -> ImageFont.FreeTypeFont | None:
    try:
        return ImageFont.truetype(path, size=size, index=index)
    except OSError:
        logger.warning("cannot load poster font %s", path)
        return None


def has_glyphs(font: ImageFont.FreeTypeFont, text: str) -> bool:
    """Whether `font` draws every character of `text` (not the .notdef box)."""
    missing = _glyph_pixels(font, _ABSENT)
    return all(
        character.isspace() or _glyph_pixels(font, character) != missing for character in set(text)
    )


def _glyph_pixels(font: ImageFont.FreeTypeFont, character: str) -> bytes:
    size = int(font.size * 1.5) + 4
    canvas = Image.new("L", (size, size))
    ImageDraw.Draw(canvas).text((2, 2), character, font=font, fill=255)
    return canvas.tobytes()


def font_for(text: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The first CJK font that has every glyph of `text`; the bundled one if
    none has them all; Pillow's default font only if no font file loads."""
    first = None
    for path, index in font_candidates():
        font = _truetype(path, index, size)
        if font is None:
            continue
        first = first or font
        if has_glyphs(font, text):
            return font
    return first or ImageFont.load_default(size=size)


# Content -------------------------------------------------------------------


def content_for(link: ShareLink) -> PosterContent:
    """What the poster shows for a link: three queries at most."""
    from kinshop.shops.models import SelectionPrice

    shop = link.shop
    title, price, picture = shop.name, "", None
    # No query when the link has no product: the descriptor sees the null key.
    product = link.product
    if product is not None:
        title = product.title
        lowest = SelectionPrice.objects.filter(shop=shop, sku__product_id=product.pk).aggregate(
            low=Min("retail_price")
        )["low"]
        if lowest is not None:
            price = format_money(lowest, settings.KINSHOP_CURRENCY)
        image = product.images.order_by("position", "id").first()
        if image is not None:
            picture = _open(image.image)
    elif shop.bio:
        title = f"{shop.name} · {shop.bio}"
    if picture is None and shop.avatar:
        picture = _open(shop.avatar)
    return PosterContent(
        url=share_url(link.code),
        title=title,
        price=price,
        sharer=link.sharer.public_name,
        shop=shop.name,
        picture=picture,
        seed=link.shop_id,
    )


def _open(field) -> Image.Image | None:
    try:
        with field.open("rb") as handle:
            image = Image.open(handle)
            image.load()
        return ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        logger.warning("cannot open poster picture %s", getattr(field, "name", field))
        return None


# Drawing -------------------------------------------------------------------


def render_png(link: ShareLink) -> bytes:
    return render(content_for(link))


def render(content: PosterContent) -> bytes:
    poster = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(poster)
    _draw_picture(poster, draw, content)

    y = PICTURE_HEIGHT + 36
    title_font = font_for(content.title, 40)
    for line in wrap(content.title, title_font, WIDTH - 2 * MARGIN, max_lines=2):
        draw.text((MARGIN, y), line, font=title_font, fill=INK, stroke_width=1, stroke_fill=INK)
        y += 56
    if content.price:
        price_font = font_for(content.price, 60)
        draw.text(
            (MARGIN, y + 8), content.price, font=price_font, fill=PRICE, stroke_width=1,
            stroke_fill=PRICE,
        )  # fmt: skip

    # The band at the bottom: who recommends it, where, and the QR code.
    band_top = HEIGHT - QR_SIZE - 2 * 32
    draw.rectangle((0, band_top, WIDTH, HEIGHT), fill=BAND)
    qr = qr_image(content.url, QR_SIZE)
    poster.paste(qr, (WIDTH - MARGIN - QR_SIZE, band_top + 32))

    text_width = WIDTH - 2 * MARGIN - QR_SIZE - 24
    recommends = f"{content.sharer} 推荐"
    sharer_font = font_for(recommends, 36)
    line_y = band_top + 44
    for line in wrap(recommends, sharer_font, text_width, max_lines=1):
        draw.text(
            (MARGIN, line_y), line, font=sharer_font, fill=INK, stroke_width=1, stroke_fill=INK
        )
    shop_line = f"来自 {content.shop}"
    shop_font = font_for(shop_line, 28)
    for line in wrap(shop_line, shop_font, text_width, max_lines=2):
        line_y += 52 if line_y == band_top + 44 else 38
        draw.text((MARGIN, line_y), line, font=shop_font, fill=MUTED)
    hint = "长按识别二维码 · 扫码购买"
    hint_font = font_for(hint, 26)
    draw.text((MARGIN, HEIGHT - 32 - 40), hint, font=hint_font, fill=MUTED)

    buffer = io.BytesIO()
    poster.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _draw_picture(poster: Image.Image, draw: ImageDraw.ImageDraw, content: PosterContent) -> None:
    if content.picture is not None:
        picture = ImageOps.fit(content.picture, (WIDTH, PICTURE_HEIGHT), Image.Resampling.LANCZOS)
        poster.paste(picture, (0, 0))
        return
    # No picture: a coloured block with the shop's first character, so a poster
    # is never empty and shops are told apart at a glance.
    colour = PALETTE[content.seed % len(PALETTE)]
    draw.rectangle((0, 0, WIDTH, PICTURE_HEIGHT), fill=colour)
    initial = (content.shop.strip() or "K")[0]
    font = font_for(initial, 240)
    left, top, right, bottom = draw.textbbox((0, 0), initial, font=font)
    draw.text(
        ((WIDTH - (right - left)) / 2 - left, (PICTURE_HEIGHT - (bottom - top)) / 2 - top),
        initial,
        font=font,
        fill=(255, 255, 255),
    )


def qr_image(url: str, size: int) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(url)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    return image.resize((size, size), Image.Resampling.NEAREST)


_TOKENS = re.compile(r"[A-Za-z0-9_.,:;!?'\"()\-+/%&]+|\s+|.", re.S)


def wrap(text: str, font, width: int, *, max_lines: int) -> list[str]:
    """Greedy wrap: CJK breaks between any two characters, Latin words stay
    whole when they fit; the last line ends with … when text is left over."""
    lines: list[str] = []
    current = ""
    tokens = _TOKENS.findall(" ".join(text.split()))
    index = 0
    while index < len(tokens):
        token = tokens[index]
        candidate = current + token
        if font.getlength(candidate) <= width:
            current = candidate
            index += 1
            continue
        if not current.strip():
            # A single token wider than the line: split it by characters.
            head = ""
            for character in token:
                if font.getlength(current + head + character) > width:
                    break
                head += character
            head = head or token[0]
            lines.append(current + head)
            tokens[index] = token[len(head) :]
            current = ""
        else:
            lines.append(current.rstrip())
            current = ""
            if token.isspace():
                index += 1
        if len(lines) == max_lines:
            break
    else:
        if current.strip():
            lines.append(current.rstrip())
        return lines[:max_lines]
    if not "".join(tokens[index:]).strip():
        return lines
    # Text left over: mark the cut on the last line.
    last = lines[-1]
    while last and font.getlength(last + "…") > width:
        last = last[:-1]
    lines[-1] = last.rstrip() + "…"
    return lines
