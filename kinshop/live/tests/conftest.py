from __future__ import annotations

import pytest

from kinshop import testing
from kinshop.core import clock

ADDRESS = {
    "name": "王芳",
    "phone": "13800138000",
    "region": "浙江省杭州市",
    "detail": "西湖路 1 号",
}


@pytest.fixture
def keeper(shop):
    return shop.owner


@pytest.fixture
def room(api, shop, keeper):
    """A room of the shop, on air."""
    client = api(keeper)
    created = client.post(
        f"/shops/{shop.handle}/live-rooms",
        {"title": "Hickory harvest live", "scheduled_at": clock.now().isoformat()},
    )
    assert created.status_code == 201, created.json()
    started = client.post(f"/live-rooms/{created.json()['id']}/start")
    assert started.status_code == 200, started.json()
    return started.json()


def make_viewer(name: str, phone: str = ""):
    return testing.make_user(testing.unique(name), phone=phone)
