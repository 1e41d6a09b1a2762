"""The WeChat Pay provider against a fake WeChat Pay on loopback (real HTTP, real
RSA signatures and AES-GCM with keys the fake generates). No database."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from kinshop.core.errors import Conflict
from kinshop.payments.providers import base, get_provider
from kinshop.payments.providers import wechatpay as wx
from kinshop.payments.tests.wechatpay_server import (
    FakeWeChatPay,
    new_rsa_key,
    private_pem,
    public_pem,
)


@pytest.fixture(scope="module")
def fake_server(tmp_path_factory):
    with FakeWeChatPay(tmp_path_factory.mktemp("wechatpay")) as server:
        yield server


@pytest.fixture
def fake(fake_server, settings):
    fake_server.reset()
    settings.KINSHOP_WECHATPAY = fake_server.settings_dict()
    return fake_server


@pytest.fixture
def provider():
    return wx.WeChatPayProvider()


def _other_key_path(fake, name="wrong_key.pem", public=False):
    key = new_rsa_key()
    return str(fake.write_pem(name, public_pem(key) if public else private_pem(key))), key


# --- configuration ---------------------------------------------------------------------------


def test_enabled_only_when_configured(fake, settings, provider):
    assert provider.is_enabled()
    assert get_provider("wechatpay") is not None
    for name in ("MCH_ID", "APP_ID", "PRIVATE_KEY_PATH", "API_V3_KEY", "PLATFORM_PUBLIC_KEY_PATH"):
        settings.KINSHOP_WECHATPAY = fake.settings_dict(**{name: ""})
        assert not provider.is_enabled(), name
    settings.KINSHOP_WECHATPAY = fake.settings_dict(CERT_SERIAL_NO="", NOTIFY_URL="")
    assert provider.is_enabled()


# --- start_payment ---------------------------------------------------------------------------


def test_start_payment_returns_code_url_from_a_verified_request(fake, provider):
    started = provider.start_payment(
        reference="KS20240601ABC", amount=1990, currency="CNY", description="团购 · " + "x" * 200
    )

    assert started.pay_url.startswith("weixin://wxpay/bizpayurl?pr=")
    [request] = fake.requests
    assert request.authorized, request.refusal
    assert request.status == 200
    assert request.method == "POST" and request.path == "/v3/pay/transactions/native"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/json"
    sent = request.json
    assert sent["appid"] == fake.app_id and sent["mchid"] == fake.mch_id
    assert sent["out_trade_no"] == "KS20240601ABC"
    assert sent["notify_url"] == fake.notify_url
    assert sent["amount"] == {"total": 1990, "currency": "CNY"}
    assert len(sent["description"]) == 127 and sent["description"].startswith("团购")


def test_same_reference_same_code_url(fake, provider):
    first = provider.start_payment(
        reference="KS-same-1", amount=100, currency="CNY", description="a"
    )
    again = provider.start_payment(
        reference="KS-same-1", amount=100, currency="CNY", description="a"
    )
    assert first.pay_url == again.pay_url


def test_request_signed_with_the_wrong_key_is_refused(fake, settings, provider):
    wrong_path, _ = _other_key_path(fake)
    settings.KINSHOP_WECHATPAY = fake.settings_dict(PRIVATE_KEY_PATH=wrong_path)

    with pytest.raises(Conflict) as caught:
        provider.start_payment(reference="KS-wrongkey", amount=100, currency="CNY", description="x")

    assert caught.value.code == "provider_error"
    assert caught.value.status == 409
    assert caught.value.details["http_status"] == 401
    assert caught.value.details["wechat_code"] == "SIGN_ERROR"
    [request] = fake.requests
    assert not request.authorized and request.refusal == "signature does not verify"


def test_server_refuses_unsigned_and_forged_requests(fake):
    url = fake.base_url + "/v3/pay/transactions/native"
    unsigned = httpx.post(url, content=b"{}", headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401 and unsigned.json()["code"] == "SIGN_ERROR"

    # A correctly signed header replayed over a different body does not verify.
    header = wx.authorization_header(
        mch_id=fake.mch_id,
        serial_no=fake.merchant_serial_no,
        private_key=fake.merchant_key,
        method="POST",
        path_with_query="/v3/pay/transactions/native",
        body=b'{"amount":{"total":1}}',
    )
    forged = httpx.post(
        url, content=b'{"amount":{"total":100000}}', headers={"Authorization": header}
    )
    assert forged.status_code == 401
    assert [r.authorized for r in fake.requests] == [False, False]


def test_tampered_response_is_refused(fake, provider):
    fake.tamper_responses = True
    with pytest.raises(Conflict) as caught:
        provider.start_payment(reference="KS-tamper", amount=100, currency="CNY", description="x")
    assert caught.value.code == "provider_error"
    assert fake.requests[0].authorized  # the request was fine; the answer was not


def test_response_signed_by_another_platform_key_is_refused(fake, settings, provider):
    other_public, _ = _other_key_path(fake, "other_platform.pem", public=True)
    settings.KINSHOP_WECHATPAY = fake.settings_dict(PLATFORM_PUBLIC_KEY_PATH=other_public)
    with pytest.raises(Conflict) as caught:
        provider.start_payment(
            reference="KS-otherplat", amount=100, currency="CNY", description="x"
        )
    assert caught.value.code == "provider_error"


def test_wechat_business_error_is_a_provider_error(fake, provider):
    fake.fail_next(403, "ORDERPAID", "该订单已支付")
    with pytest.raises(Conflict) as caught:
        provider.start_payment(reference="KS-paid", amount=100, currency="CNY", description="x")
    assert caught.value.code == "provider_error"
    assert caught.value.details == {"http_status": 403, "wechat_code": "ORDERPAID"}


def test_wechat_outage_is_provider_unavailable(fake, provider):
    fake.fail_next(500, "SYSTEM_ERROR", "系统错误")
    with pytest.raises(Conflict) as caught:
        provider.start_payment(reference="KS-500", amount=100, currency="CNY", description="x")
    assert caught.value.code == "provider_unavailable"


def test_unreachable_wechat_is_provider_unavailable(fake, settings, provider):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.KINSHOP_WECHATPAY = fake.settings_dict(API_BASE=f"http://127.0.0.1:{port}")
    with pytest.raises(Conflict) as caught:
        provider.start_payment(reference="KS-down", amount=100, currency="CNY", description="x")
    assert caught.value.code == "provider_unavailable"


# --- send_refund -----------------------------------------------------------------------------


def test_send_refund_succeeded(fake, provider):
    sent = provider.send_refund(
        payment_reference="KS-paid-1",
        refund_reference="RF-1",
        amount=500,
        total=1990,
        reason="缺货",
    )
    assert sent.succeeded is True
    assert sent.provider_refund_id.startswith("50000")
    [request] = fake.requests
    assert request.authorized, request.refusal
    assert request.path == "/v3/refund/domestic/refunds"
    assert request.json == {
        "out_trade_no": "KS-paid-1",
        "out_refund_no": "RF-1",
        "reason": "缺货",
        "notify_url": fake.notify_url,
        "amount": {"refund": 500, "total": 1990, "currency": "CNY"},
    }


def test_send_refund_processing_is_not_yet_succeeded(fake, provider):
    fake.refund_status = "PROCESSING"
    sent = provider.send_refund(
        payment_reference="KS-paid-2", refund_reference="RF-2", amount=1990, total=1990, reason=""
    )
    assert sent.succeeded is False
    assert sent.provider_refund_id
    # Resending the same refund reference is idempotent at WeChat Pay.
    again = provider.send_refund(
        payment_reference="KS-paid-2", refund_reference="RF-2", amount=1990, total=1990, reason=""
    )
    assert again.provider_refund_id == sent.provider_refund_id


def test_refund_refused_by_wechat(fake, provider):
    fake.fail_next(400, "NOT_ENOUGH", "基本账户余额不足")
    with pytest.raises(Conflict) as caught:
        provider.send_refund(
            payment_reference="KS-paid-3", refund_reference="RF-3", amount=1, total=2, reason=""
        )
    assert caught.value.details["wechat_code"] == "NOT_ENOUGH"


# --- callbacks -------------------------------------------------------------------------------


def test_payment_callback_parses(fake, provider):
    body, headers = fake.payment_callback("KS20240601ABC", 1990, transaction_id="4200001234")

    [note] = provider.parse_notification(body=body, headers=headers)

    assert note.kind == base.PAYMENT_SUCCEEDED
    assert note.event_id == json.loads(body)["id"]
    assert note.payment_reference == "KS20240601ABC"
    assert note.amount == 1990
    assert note.transaction_id == "4200001234"
    assert note.raw["resource"]["trade_state"] == "SUCCESS"


def test_callback_headers_in_any_case(fake, provider):
    body, headers = fake.payment_callback("KS-case", 10)
    lower = {name.lower(): value for name, value in headers.items()}
    upper = {name.upper(): value for name, value in headers.items()}
    assert provider.parse_notification(body=body, headers=lower)[0].amount == 10
    assert provider.parse_notification(body=body, headers=upper)[0].amount == 10


def test_tampered_callback_body_is_refused(fake, provider):
    body, headers = fake.payment_callback("KS-tamper", 1990)
    envelope = json.loads(body)
    envelope["summary"] = "changed"
    with pytest.raises(base.InvalidSignature):
        provider.parse_notification(body=json.dumps(envelope).encode(), headers=headers)
    with pytest.raises(base.InvalidSignature):
        provider.parse_notification(body=body + b" ", headers=headers)


def test_callback_with_wrong_signature_is_refused(fake, provider):
    body, _ = fake.payment_callback("KS-forged", 1990)
    forged = fake.sign_headers(body, key=new_rsa_key())
    with pytest.raises(base.InvalidSignature):
        provider.parse_notification(body=body, headers=forged)
    garbage = {**fake.sign_headers(body), "Wechatpay-Signature": "not base64!"}
    with pytest.raises(base.InvalidSignature):
        provider.parse_notification(body=body, headers=garbage)


def test_callback_with_stale_timestamp_is_refused(fake, provider):
    for skew in (-301, 301):
        body, headers = fake.payment_callback("KS-stale", 1990, timestamp=int(time.time()) + skew)
        with pytest.raises(base.InvalidSignature, match="stale"):
            provider.parse_notification(body=body, headers=headers)
    body, headers = fake.payment_callback("KS-fresh", 1990, timestamp=int(time.time()) - 200)
    assert provider.parse_notification(body=body, headers=headers)


def test_callback_encrypted_with_another_api_v3_key_is_refused(fake, settings, provider):
    body, headers = fake.payment_callback("KS-key", 1990, api_v3_key="0" * 32)
    with pytest.raises(base.InvalidSignature):
        provider.parse_notification(body=body, headers=headers)
    # ...and the same when we hold the wrong key.
    body, headers = fake.payment_callback("KS-key", 1990)
    settings.KINSHOP_WECHATPAY = fake.settings_dict(API_V3_KEY="1" * 32)
    with pytest.raises(base.InvalidSignature):
        provider.parse_notification(body=body, headers=headers)


def test_callback_missing_headers_or_unknown_serial_is_refused(fake, provider):
    body, headers = fake.payment_callback("KS-hdr", 1990)
    for missing in ("Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature"):
        partial = {k: v for k, v in headers.items() if k != missing}
        with pytest.raises(base.InvalidSignature):
            provider.parse_notification(body=body, headers=partial)
    with pytest.raises(base.InvalidSignature):
        provider.parse_notification(
            body=body, headers={**headers, "Wechatpay-Serial": "PUB_KEY_ID_OTHER"}
        )


def test_wechat_signature_probe_is_refused(fake, provider):
    # WeChat Pay sometimes sends deliberately wrong signatures to check merchants verify them.
    body, headers = fake.payment_callback("KS-probe", 1990)
    probe = {
        **headers,
        "Wechatpay-Signature": "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"],
    }
    with pytest.raises(base.InvalidSignature):
        provider.parse_notification(body=body, headers=probe)


def test_refund_success_callback_parses(fake, provider):
    body, headers = fake.refund_callback("KS-paid-1", "RF-1", 500, 1990, refund_id="50000999")

    [note] = provider.parse_notification(body=body, headers=headers)

    assert note.kind == base.REFUND_SUCCEEDED
    assert note.payment_reference == "KS-paid-1"
    assert note.refund_reference == "RF-1"
    assert note.provider_refund_id == "50000999"
    assert note.amount == 500


@pytest.mark.parametrize("event_type", ["REFUND.ABNORMAL", "REFUND.CLOSED"])
def test_refund_failure_callbacks(fake, provider, event_type):
    body, headers = fake.refund_callback("KS-paid-1", "RF-9", 500, 1990, event_type=event_type)
    [note] = provider.parse_notification(body=body, headers=headers)
    assert note.kind == base.REFUND_FAILED
    assert note.refund_reference == "RF-9" and note.amount == 500


def test_other_event_types_are_ignored(fake, provider):
    body, headers = fake.callback(
        "TRANSACTION.CLOSED",
        {"out_trade_no": "KS-x"},
        original_type="transaction",
        associated_data="transaction",
    )
    assert provider.parse_notification(body=body, headers=headers) == []


def test_callback_for_another_merchant_is_refused(fake, provider):
    plain = {
        "mchid": "1999999999",
        "out_trade_no": "KS-x",
        "transaction_id": "42",
        "trade_state": "SUCCESS",
        "amount": {"total": 1, "payer_total": 1, "currency": "CNY"},
    }
    body, headers = fake.callback(
        "TRANSACTION.SUCCESS", plain, original_type="transaction", associated_data="transaction"
    )
    with pytest.raises(base.InvalidSignature):
        provider.parse_notification(body=body, headers=headers)


def test_success_response():
    assert wx.success_response() == (200, {"code": "SUCCESS", "message": "成功"})
