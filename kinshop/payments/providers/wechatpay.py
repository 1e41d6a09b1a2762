"""WeChat Pay (API v3), Native payments: the payer scans a QR code of `code_url`.

Every request is signed with the merchant's RSA key (``WECHATPAY2-SHA256-RSA2048``);
every answer and every callback is verified with the WeChat Pay platform public
key, and callback resources are decrypted with the API v3 key (AES-256-GCM).

Configuration is ``settings.KINSHOP_WECHATPAY`` (see settings.py), read at call
time. The only module state is a cache of loaded keys, by path and file mtime.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from kinshop.core.errors import Conflict
from kinshop.payments.providers.base import (
    PAYMENT_SUCCEEDED,
    REFUND_FAILED,
    REFUND_SUCCEEDED,
    InvalidSignature,
    Notification,
    SentRefund,
    StartedPayment,
)

DEFAULT_API_BASE = "https://api.mch.weixin.qq.com"
AUTH_SCHEMA = "WECHATPAY2-SHA256-RSA2048"
TOLERANCE_SECONDS = 300
TIMEOUT_SECONDS = 10.0
DESCRIPTION_MAX_CHARS = 127
NATIVE_PATH = "/v3/pay/transactions/native"
REFUND_PATH = "/v3/refund/domestic/refunds"

HEADER_TIMESTAMP = "Wechatpay-Timestamp"
HEADER_NONCE = "Wechatpay-Nonce"
HEADER_SIGNATURE = "Wechatpay-Signature"
HEADER_SERIAL = "Wechatpay-Serial"

REFUND_FAILURE_EVENTS = ("REFUND.ABNORMAL", "REFUND.CLOSED")


class WeChatPayError(Conflict):
    """WeChat Pay refused a call or could not be trusted / reached.

    ``code`` is "provider_error" (WeChat answered with an error, or an answer
    that did not verify) or "provider_unavailable" (network failure, timeout,
    5xx). ``details`` carry ``http_status`` and WeChat's own ``wechat_code``.
    """

    code = "provider_error"


# --- configuration and keys ------------------------------------------------------------------


@dataclass(frozen=True)
class _Config:
    mch_id: str
    app_id: str
    api_base: str
    private_key_path: str
    cert_serial_no: str
    api_v3_key: str
    platform_public_key_path: str
    platform_serial_no: str
    notify_url: str


def _config() -> _Config:
    raw = getattr(settings, "KINSHOP_WECHATPAY", None) or {}
    return _Config(
        mch_id=str(raw.get("MCH_ID") or ""),
        app_id=str(raw.get("APP_ID") or ""),
        api_base=str(raw.get("API_BASE") or DEFAULT_API_BASE).rstrip("/"),
        private_key_path=str(raw.get("PRIVATE_KEY_PATH") or ""),
        cert_serial_no=str(raw.get("CERT_SERIAL_NO") or ""),
        api_v3_key=str(raw.get("API_V3_KEY") or ""),
        platform_public_key_path=str(raw.get("PLATFORM_PUBLIC_KEY_PATH") or ""),
        platform_serial_no=str(raw.get("PLATFORM_SERIAL_NO") or ""),
        notify_url=str(raw.get("NOTIFY_URL") or ""),
    )


_key_cache: dict[tuple[str, str], tuple[tuple[int, int], Any]] = {}
_key_lock = threading.Lock()


def _load_key(path: str, kind: str) -> Any:
    """Load (and cache by path; reloaded when the file changes) a PEM key.

    kind "private": an RSA private key (PKCS#1 or PKCS#8). kind "public": an RSA
    public key, or an X.509 certificate (the older "platform certificate") whose
    public key is taken.
    """
    if not path:
        raise ImproperlyConfigured(f"KINSHOP_WECHATPAY has no {kind} key path.")
    file = Path(path)
    try:
        stat = file.stat()
    except OSError as error:
        raise ImproperlyConfigured(f"Cannot read WeChat Pay {kind} key {path}: {error}") from error
    stamp = (stat.st_mtime_ns, stat.st_size)
    cache_key = (path, kind)
    with _key_lock:
        cached = _key_cache.get(cache_key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    data = file.read_bytes()
    try:
        if kind == "private":
            key: Any = serialization.load_pem_private_key(data, password=None)
        elif b"CERTIFICATE" in data:
            key = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError as error:
        raise ImproperlyConfigured(f"WeChat Pay {kind} key {path} is not a PEM key.") from error
    wanted = rsa.RSAPrivateKey if kind == "private" else rsa.RSAPublicKey
    if not isinstance(key, wanted):
        raise ImproperlyConfigured(f"WeChat Pay {kind} key {path} is not an RSA key.")
    with _key_lock:
        _key_cache[cache_key] = (stamp, key)
    return key


def _api_v3_key(config: _Config) -> bytes:
    key = config.api_v3_key.encode()
    if len(key) != 32:
        raise ImproperlyConfigured("KINSHOP_WECHATPAY['API_V3_KEY'] must be 32 bytes.")
    return key


# --- signatures ------------------------------------------------------------------------------


def request_message(
    method: str, path_with_query: str, timestamp: str, nonce: str, body: bytes
) -> bytes:
    """The string a merchant signs: METHOD, path+query, timestamp, nonce, body, each + "\\n"."""
    return f"{method.upper()}\n{path_with_query}\n{timestamp}\n{nonce}\n".encode() + body + b"\n"


def response_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    """The string WeChat Pay signs on answers and callbacks: timestamp, nonce, body, each + "\\n"."""
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def rsa_sign(private_key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(public_key: rsa.RSAPublicKey, message: bytes, signature_b64: str) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (CryptoInvalidSignature, binascii.Error, ValueError):
        return False
    return True


def authorization_header(
    *,
    mch_id: str,
    serial_no: str,
    private_key: rsa.RSAPrivateKey,
    method: str,
    path_with_query: str,
    body: bytes,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> str:
    """The ``Authorization`` header value for one request."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16).upper()
    signature = rsa_sign(private_key, request_message(method, path_with_query, ts, nonce, body))
    return (
        f'{AUTH_SCHEMA} mchid="{mch_id}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{ts}",serial_no="{serial_no}"'
    )


def _header(headers: Any, name: str) -> str:
    """Case-insensitive header lookup in a plain dict (or any mapping)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if str(key).lower() == lowered:
                value = candidate
                break
    return "" if value is None else str(value)


def verify_signed(
    *, body: bytes, headers: Any, config: _Config | None = None, now: float | None = None
) -> None:
    """Check the Wechatpay-* headers over ``body`` with the platform public key.

    Raises base.InvalidSignature when a header is missing, the serial is not the
    configured platform key's, the timestamp is more than 5 minutes off, or the
    signature does not verify.
    """
    config = config or _config()
    timestamp = _header(headers, HEADER_TIMESTAMP)
    nonce = _header(headers, HEADER_NONCE)
    signature = _header(headers, HEADER_SIGNATURE)
    serial = _header(headers, HEADER_SERIAL)
    if not (timestamp and nonce and signature):
        raise InvalidSignature("missing Wechatpay signature headers")
    try:
        ts = int(timestamp)
    except ValueError:
        raise InvalidSignature("bad Wechatpay-Timestamp") from None
    now = time.time() if now is None else now
    if abs(now - ts) > TOLERANCE_SECONDS:
        raise InvalidSignature("stale Wechatpay-Timestamp")
    if config.platform_serial_no and serial and serial != config.platform_serial_no:
        raise InvalidSignature(f"signed by an unknown platform key {serial!r}")
    public_key = _load_key(config.platform_public_key_path, "public")
    if not rsa_verify(public_key, response_message(timestamp, nonce, body), signature):
        raise InvalidSignature("bad Wechatpay-Signature")


def decrypt_resource(resource: dict[str, Any], *, api_v3_key: bytes) -> dict[str, Any]:
    """Decrypt a callback's ``resource`` (AEAD_AES_256_GCM) into its JSON object."""
    if resource.get("algorithm") != "AEAD_AES_256_GCM":
        raise InvalidSignature(f"unsupported algorithm {resource.get('algorithm')!r}")
    try:
        plaintext = AESGCM(api_v3_key).decrypt(
            str(resource["nonce"]).encode(),
            base64.b64decode(resource["ciphertext"], validate=True),
            str(resource.get("associated_data") or "").encode(),
        )
        data = json.loads(plaintext)
    except (InvalidTag, KeyError, TypeError, ValueError, binascii.Error) as error:
        raise InvalidSignature("resource does not decrypt") from error
    if not isinstance(data, dict):
        raise InvalidSignature("resource is not an object")
    return data


def success_response() -> tuple[int, dict[str, str]]:
    """What to answer WeChat Pay after handling a callback (it stops retrying)."""
    return 200, {"code": "SUCCESS", "message": "成功"}


def failure_response(message: str = "失败") -> tuple[int, dict[str, str]]:
    """What to answer when a callback was refused or not handled (WeChat Pay retries)."""
    return 400, {"code": "FAIL", "message": message}


# --- the provider ----------------------------------------------------------------------------


class WeChatPayProvider:
    name = "wechatpay"

    def is_enabled(self) -> bool:
        c = _config()
        return bool(
            c.mch_id
            and c.app_id
            and c.private_key_path
            and c.api_v3_key
            and c.platform_public_key_path
        )

    # The Provider protocol

    def start_payment(
        self, *, reference: str, amount: int, currency: str, description: str
    ) -> StartedPayment:
        config = _config()
        payload = {
            "appid": config.app_id,
            "mchid": config.mch_id,
            "description": (description or reference)[:DESCRIPTION_MAX_CHARS],
            "out_trade_no": reference,
            "notify_url": config.notify_url,
            "amount": {"total": int(amount), "currency": (currency or "CNY").upper()},
        }
        data = self._call("POST", NATIVE_PATH, payload, config=config)
        code_url = data.get("code_url")
        if not isinstance(code_url, str) or not code_url:
            raise WeChatPayError("WeChat Pay answered without a code_url.", http_status=200)
        return StartedPayment(pay_url=code_url)

    def parse_notification(self, *, body: bytes, headers: dict[str, str]) -> list[Notification]:
        config = _config()
        verify_signed(body=body, headers=headers, config=config)
        try:
            envelope = json.loads(body)
            event_id = str(envelope["id"])
            event_type = str(envelope["event_type"])
            resource = envelope["resource"]
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidSignature("malformed notification") from error
        if not isinstance(resource, dict):
            raise InvalidSignature("malformed notification resource")
        if event_type != "TRANSACTION.SUCCESS" and not event_type.startswith("REFUND."):
            return []
        data = decrypt_resource(resource, api_v3_key=_api_v3_key(config))
        if data.get("mchid") and config.mch_id and str(data["mchid"]) != config.mch_id:
            raise InvalidSignature("notification for another merchant")
        raw = {**envelope, "resource": data}
        try:
            if event_type == "TRANSACTION.SUCCESS":
                if data.get("trade_state") != "SUCCESS":
                    return []
                return [
                    Notification(
                        event_id=event_id,
                        kind=PAYMENT_SUCCEEDED,
                        payment_reference=str(data["out_trade_no"]),
                        amount=int(data["amount"]["total"]),
                        transaction_id=str(data.get("transaction_id") or ""),
                        payer_id=str((data.get("payer") or {}).get("openid") or ""),
                        raw=raw,
                    )
                ]
            if event_type == "REFUND.SUCCESS" or event_type in REFUND_FAILURE_EVENTS:
                return [
                    Notification(
                        event_id=event_id,
                        kind=REFUND_SUCCEEDED if event_type == "REFUND.SUCCESS" else REFUND_FAILED,
                        payment_reference=str(data["out_trade_no"]),
                        amount=int(data["amount"]["refund"]),
                        transaction_id=str(data.get("transaction_id") or ""),
                        refund_reference=str(data["out_refund_no"]),
                        provider_refund_id=str(data.get("refund_id") or ""),
                        raw=raw,
                    )
                ]
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidSignature("malformed notification resource") from error
        return []

    def send_refund(
        self, *, payment_reference: str, refund_reference: str, amount: int, total: int, reason: str
    ) -> SentRefund:
        config = _config()
        payload: dict[str, Any] = {
            "out_trade_no": payment_reference,
            "out_refund_no": refund_reference,
            "amount": {"refund": int(amount), "total": int(total), "currency": "CNY"},
        }
        if reason:
            payload["reason"] = reason[:80]
        if config.notify_url:
            payload["notify_url"] = config.notify_url
        data = self._call("POST", REFUND_PATH, payload, config=config)
        refund_id = data.get("refund_id")
        if not refund_id:
            raise WeChatPayError("WeChat Pay answered without a refund_id.", http_status=200)
        return SentRefund(
            provider_refund_id=str(refund_id), succeeded=data.get("status") == "SUCCESS"
        )

    # Transport

    def _call(
        self, method: str, path: str, payload: dict[str, Any] | None, *, config: _Config
    ) -> dict[str, Any]:
        """Send a signed request; return the verified JSON answer (raise WeChatPayError)."""
        if not (config.mch_id and config.app_id and config.api_v3_key):
            raise ImproperlyConfigured("WeChat Pay is not configured (KINSHOP_WECHATPAY).")
        body = (
            b""
            if payload is None
            else json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        )
        url = httpx.URL(config.api_base + path)
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "kinshop-wechatpay/1",
            "Authorization": authorization_header(
                mch_id=config.mch_id,
                serial_no=config.cert_serial_no,
                private_key=_load_key(config.private_key_path, "private"),
                method=method,
                path_with_query=url.raw_path.decode("ascii"),
                body=body,
            ),
        }
        if config.platform_serial_no:
            headers["Wechatpay-Serial"] = config.platform_serial_no
        try:
            with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
                response = client.request(method, url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise WeChatPayError(
                f"WeChat Pay could not be reached: {error.__class__.__name__}.",
                code="provider_unavailable",
            ) from error
        status = response.status_code
        if status >= 500:
            raise WeChatPayError(
                "WeChat Pay is unavailable, try again later.",
                code="provider_unavailable",
                http_status=status,
                wechat_code=_error_code(response),
            )
        if not 200 <= status < 300:
            # Error answers are reported, never acted on, so they need not verify.
            wechat_code = _error_code(response)
            raise WeChatPayError(
                f"WeChat Pay refused the request ({status} {wechat_code}): {_error_message(response)}",
                http_status=status,
                wechat_code=wechat_code,
            )
        try:
            verify_signed(body=response.content, headers=response.headers, config=config)
        except InvalidSignature as error:
            raise WeChatPayError(
                f"WeChat Pay's answer does not verify: {error}", http_status=status
            ) from error
        if not response.content:
            return {}
        try:
            data = response.json()
        except ValueError as error:
            raise WeChatPayError(
                "WeChat Pay answered with invalid JSON.", http_status=status
            ) from error
        if not isinstance(data, dict):
            raise WeChatPayError("WeChat Pay answered with unexpected JSON.", http_status=status)
        return data


def _error_json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_code(response: httpx.Response) -> str:
    return str(_error_json(response).get("code") or "")


def _error_message(response: httpx.Response) -> str:
    return str(_error_json(response).get("message") or "")[:200]
