from __future__ import annotations

import pytest

from kinshop.wholesale import services as wholesale


@pytest.fixture
def sku(product):
    """The product's SKU: supply price 6000, band 8000..12000, 100 in stock."""
    return product.skus.get()


@pytest.fixture
def tiers(sku, supplier_pair):
    """The SKU sold wholesale from 10 units at 5500 and from 50 at 5000."""
    _, staff = supplier_pair
    wholesale.set_tiers(
        user=staff,
        sku_id=sku.id,
        tiers=[wholesale.Tier(10, 5500), wholesale.Tier(50, 5000)],
    )
    return sku


@pytest.fixture
def keeper(shop):
    return shop.owner
