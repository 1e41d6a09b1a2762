from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image, ImageFont

from kinshop.catalog.models import ProductImage
from kinshop.sharing import poster, services

TITLE = "临安山核桃仁 手剥原味 每日坚果"


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.convert("RGB")


def test_the_bundled_font_draws_chinese_and_is_the_one_chosen():
    font = poster.font_for(TITLE + " 王小明 推荐 ¥99.00", 40)

    assert poster.BUNDLED_FONT.exists()
    assert poster.BUNDLED_FONT.stat().st_size < 3_000_000
    assert (poster.BUNDLED_FONT.parent / "OFL.txt").exists()
    assert font.path == str(poster.BUNDLED_FONT)
    assert poster.has_glyphs(font, TITLE + "长按识别二维码¥")
    # The check is real: Pillow's own font has no CJK glyph.
    assert not poster.has_glyphs(ImageFont.truetype(str(poster.BUNDLED_FONT), 40), "\U0001f600")


def test_wrap_keeps_words_and_marks_the_cut():
    font = poster.font_for(TITLE, 40)

    assert poster.wrap("Hickory nuts 500 g", font, 1000, max_lines=2) == ["Hickory nuts 500 g"]
    lines = poster.wrap(TITLE * 5, font, 300, max_lines=2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert all(font.getlength(line) <= 300 for line in lines)
    assert poster.wrap("Hickory nuts", font, font.getlength("Hickory n"), max_lines=3) == [
        "Hickory",
        "nuts",
    ]


def test_a_poster_without_picture_has_the_qr_code_and_the_title():
    content = poster.PosterContent(
        url="http://127.0.0.1:8000/s/bcdfg23456", title=TITLE, price="¥99.00",
        sharer="王小明", shop="阿花的小店", picture=None, seed=1,
    )  # fmt: skip

    image = decode(poster.render(content))

    assert image.size == (750, 1200)
    qr_box = (
        750 - poster.MARGIN - poster.QR_SIZE,
        1200 - poster.QR_SIZE - 32,
        750 - poster.MARGIN,
        1168,
    )
    qr = image.crop(qr_box).convert("L")
    dark = sum(qr.histogram()[:64])
    assert 0.2 < dark / (poster.QR_SIZE**2) < 0.7
    title_row = image.crop(
        (poster.MARGIN, poster.PICTURE_HEIGHT + 30, 700, poster.PICTURE_HEIGHT + 90)
    )
    assert title_row.convert("L").getextrema()[0] < 80  # ink where the title is


@pytest.mark.django_db
def test_a_product_poster_shows_the_product_picture(sharer, shop, product):
    picture = io.BytesIO()
    Image.new("RGB", (400, 300), (10, 200, 30)).save(picture, format="PNG")
    ProductImage.objects.create(
        product=product,
        supplier=product.supplier,
        image=ContentFile(picture.getvalue(), "nuts.png"),
    )
    link = services.create_share_link(sharer=sharer, shop=shop, product=product)

    content = poster.content_for(link)
    image = decode(poster.render(content))

    assert content.price == "¥99.00"
    assert content.title == product.title
    assert content.url.endswith(f"/s/{link.code}")
    assert image.getpixel((375, 300)) == (10, 200, 30)


@pytest.mark.django_db
def test_a_shop_poster_without_avatar_uses_a_coloured_block(sharer, shop):
    link = services.create_share_link(sharer=sharer, shop=shop)

    content = poster.content_for(link)
    image = decode(poster.render(content))

    assert content.price == ""
    assert image.getpixel((5, 5)) in poster.PALETTE
