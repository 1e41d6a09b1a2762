"""A fake WeChat Pay (API v3) on loopback, for tests.

It holds its own keys (a merchant key pair, a platform key pair, an API v3
key), writes the PEMs into a directory, and serves the Native-pay and refund
calls on 127.0.0.1 over real HTTP. It checks each request's ``Authorization``
signature with the merchant PUBLIC key, as WeChat Pay does, signs its answers
with the platform private key, and builds signed, encrypted callbacks.

It is written independently of ``providers.wechatpay`` (only ``cryptography``
and the standard library), so tests check the provider against the protocol,
not against itself.

    with FakeWeChatPay() as fake:
        settings.KINSHOP_WECHATPAY = fake.settings_dict()
        ...
        body, headers = fake.payment_callback("KS123", 1990)
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NATIVE_PATH = "/v3/pay/transactions/native"
REFUND_PATH = "/v3/refund/domestic/refunds"
_AUTH_RE = re.compile(r'(\w+)="([^"]*)"')


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> bytes:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


@dataclass
class RecordedRequest:
    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes
    authorized: bool  # the Authorization signature verified with the merchant public key
    refusal: str = ""  # why it was refused, when it was
    status: int = 0  # what the fake answered

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class _Canned:
    status: int
    body: dict[str, Any] | None


@dataclass
class _State:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)


class FakeWeChatPay:
    """WeChat Pay API v3 on 127.0.0.1:<random port>; a context manager, or start()/stop().

    Knobs a test may set:
      refund_status      what a refund call answers in ``status`` ("SUCCESS", "PROCESSING", ...)
      tamper_responses   answer with a body that no longer matches its signature
      fail_next(status, code, message)  the next API call answers this error instead
    """

    def __init__(
        self,
        directory: str | Path | None = None,
        *,
        mch_id: str = "1900000109",
        app_id: str = "wxd678efh567hg6787",
    ) -> None:
        self.mch_id = mch_id
        self.app_id = app_id
        self.merchant_key = new_rsa_key()
        self.platform_key = new_rsa_key()
        self.merchant_serial_no = secrets.token_hex(20).upper()
        self.platform_serial_no = "PUB_KEY_ID_" + secrets.token_hex(16).upper()
        self.api_v3_key = secrets.token_hex(16)  # 32 ASCII characters = 32 bytes
        self.notify_url = "https://kinshop.example/api/payments/wechatpay/notify"
        self.refund_status = "SUCCESS"
        self.tamper_responses = False
        self.requests: list[RecordedRequest] = []
        self._canned: list[_Canned] = []
        self._state = _State()
        self._lock = threading.Lock()
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="fake-wechatpay-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.private_key_path = self._write("apiclient_key.pem", private_pem(self.merchant_key))
        self.platform_public_key_path = self._write("pub_key.pem", public_pem(self.platform_key))
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeWeChatPay:
        if self._server is not None:
            return self
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-wechatpay", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> FakeWeChatPay:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeWeChatPay is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def settings_dict(self, **overrides: str) -> dict[str, str]:
        """The KINSHOP_WECHATPAY values that point Kinshop at this fake."""
        values = {
            "MCH_ID": self.mch_id,
            "APP_ID": self.app_id,
            "API_BASE": self.base_url,
            "PRIVATE_KEY_PATH": str(self.private_key_path),
            "CERT_SERIAL_NO": self.merchant_serial_no,
            "API_V3_KEY": self.api_v3_key,
            "PLATFORM_PUBLIC_KEY_PATH": str(self.platform_public_key_path),
            "PLATFORM_SERIAL_NO": self.platform_serial_no,
            "NOTIFY_URL": self.notify_url,
        }
        values.update(overrides)
        return values

    # --- helpers for tests -----------------------------------------------------------------

    def reset(self) -> None:
        """Forget recorded requests, queued failures and knobs (orders and refunds stay)."""
        with self._lock:
            self.requests.clear()
            self._canned.clear()
        self.refund_status = "SUCCESS"
        self.tamper_responses = False

    def write_pem(self, name: str, pem: bytes) -> Path:
        """Write a PEM next to the fake's own (e.g. a wrong merchant key)."""
        return self._write(name, pem)

    def fail_next(self, status: int, code: str, message: str = "") -> None:
        with self._lock:
            self._canned.append(_Canned(status, {"code": code, "message": message or code}))

    def sign_headers(
        self,
        body: bytes,
        *,
        timestamp: int | None = None,
        key: rsa.RSAPrivateKey | None = None,
        serial: str | None = None,
    ) -> dict[str, str]:
        """The Wechatpay-* headers WeChat Pay sends with an answer or a callback."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = secrets.token_hex(16).upper()
        message = f"{ts}\n{nonce}\n".encode() + body + b"\n"
        return {
            "Wechatpay-Timestamp": ts,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": _sign(key or self.platform_key, message),
            "Wechatpay-Serial": self.platform_serial_no if serial is None else serial,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    def encrypt_resource(
        self,
        plain: dict[str, Any],
        *,
        original_type: str,
        associated_data: str,
        api_v3_key: str | None = None,
    ) -> dict[str, str]:
        nonce = secrets.token_hex(6)  # 12 characters, as WeChat Pay sends
        key = (api_v3_key or self.api_v3_key).encode()
        ciphertext = AESGCM(key).encrypt(
            nonce.encode(), json.dumps(plain, ensure_ascii=False).encode(), associated_data.encode()
        )
        return {
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(ciphertext).decode(),
            "associated_data": associated_data,
            "original_type": original_type,
            "nonce": nonce,
        }

    def callback(
        self,
        event_type: str,
        plain: dict[str, Any],
        *,
        original_type: str,
        associated_data: str,
        summary: str = "",
        timestamp: int | None = None,
        api_v3_key: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A signed callback carrying ``plain`` encrypted: (body, headers)."""
        envelope = {
            "id": "EV-" + secrets.token_hex(16),
            "create_time": _now_rfc3339(),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary or event_type,
            "resource": self.encrypt_resource(
                plain,
                original_type=original_type,
                associated_data=associated_data,
                api_v3_key=api_v3_key,
            ),
        }
        body = json.dumps(envelope, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            **self.sign_headers(body, timestamp=timestamp),
        }
        return body, headers

    def payment_callback(
        self,
        out_trade_no: str,
        amount: int,
        transaction_id: str | None = None,
        *,
        timestamp: int | None = None,
        api_v3_key: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A TRANSACTION.SUCCESS callback: (body, headers)."""
        plain = {
            "mchid": self.mch_id,
            "appid": self.app_id,
            "out_trade_no": out_trade_no,
            "transaction_id": transaction_id or "42000" + secrets.token_hex(12)[:23],
            "trade_type": "NATIVE",
            "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "attach": "",
            "success_time": _now_rfc3339(),
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {
                "total": amount,
                "payer_total": amount,
                "currency": "CNY",
                "payer_currency": "CNY",
            },
        }
        return self.callback(
            "TRANSACTION.SUCCESS",
            plain,
            original_type="transaction",
            associated_data="transaction",
            summary="支付成功",
            timestamp=timestamp,
            api_v3_key=api_v3_key,
        )

    def refund_callback(
        self,
        out_trade_no: str,
        out_refund_no: str,
        refund: int,
        total: int,
        *,
        event_type: str = "REFUND.SUCCESS",
        refund_id: str | None = None,
        timestamp: int | None = None,
        api_v3_key: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A REFUND.SUCCESS (or REFUND.ABNORMAL / REFUND.CLOSED) callback: (body, headers)."""
        status = event_type.split(".", 1)[1]
        known = self._state.refunds.get(out_refund_no, {})
        plain = {
            "mchid": self.mch_id,
            "out_trade_no": out_trade_no,
            "transaction_id": "42000" + secrets.token_hex(12)[:23],
            "out_refund_no": out_refund_no,
            "refund_id": refund_id
            or known.get("refund_id")
            or "50000" + secrets.token_hex(12)[:24],
            "refund_status": status,
            "success_time": _now_rfc3339(),
            "user_received_account": "支付用户零钱",
            "amount": {
                "total": total,
                "refund": refund,
                "payer_total": total,
                "payer_refund": refund,
            },
        }
        return self.callback(
            event_type,
            plain,
            original_type="refund",
            associated_data="refund",
            summary="退款状态改变通知",
            timestamp=timestamp,
            api_v3_key=api_v3_key,
        )

    # --- the server side -------------------------------------------------------------------

    def _write(self, name: str, data: bytes) -> Path:
        path = self.directory / name
        path.write_bytes(data)
        return path

    def _check_authorization(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> str:
        """'' when the Authorization header is a valid merchant signature, else why not."""
        header = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        schema, _, params = header.partition(" ")
        if schema != "WECHATPAY2-SHA256-RSA2048":
            return "wrong authorization schema"
        fields = dict(_AUTH_RE.findall(params))
        if fields.get("mchid") != self.mch_id:
            return "wrong mchid"
        if fields.get("serial_no") != self.merchant_serial_no:
            return "wrong serial_no"
        try:
            if abs(time.time() - int(fields.get("timestamp", ""))) > 300:
                return "stale timestamp"
        except ValueError:
            return "bad timestamp"
        message = (
            f"{method}\n{path}\n{fields['timestamp']}\n{fields.get('nonce_str', '')}\n".encode()
            + body
            + b"\n"
        )
        try:
            self.merchant_key.public_key().verify(
                base64.b64decode(fields.get("signature", ""), validate=True),
                message,
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError):
            return "signature does not verify"
        return ""

    def _handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any] | None]:
        refusal = self._check_authorization(method, path, headers, body)
        record = RecordedRequest(
            method, path, headers, body, authorized=not refusal, refusal=refusal
        )
        with self._lock:
            self.requests.append(record)
        if refusal:
            status, answer = 401, {"code": "SIGN_ERROR", "message": f"签名错误: {refusal}"}
        else:
            with self._lock:
                canned = self._canned.pop(0) if self._canned else None
            if canned is not None:
                status, answer = canned.status, canned.body
            else:
                status, answer = self._route(method, path.split("?", 1)[0], body)
        record.status = status
        return status, answer

    def _route(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any] | None]:
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return 400, {"code": "PARAM_ERROR", "message": "body is not JSON"}
        if method == "POST" and path == NATIVE_PATH:
            return self._native(data)
        if method == "POST" and path == REFUND_PATH:
            return self._refund(data)
        return 404, {"code": "NOT_FOUND", "message": "no such API"}

    def _native(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        missing = [
            name
            for name in ("appid", "mchid", "description", "out_trade_no", "notify_url", "amount")
            if not data.get(name)
        ]
        if missing:
            return 400, {"code": "PARAM_ERROR", "message": f"missing {', '.join(missing)}"}
        if data["appid"] != self.app_id or data["mchid"] != self.mch_id:
            return 400, {"code": "APPID_MCHID_NOT_MATCH", "message": "appid和mch_id不匹配"}
        total = data["amount"].get("total")
        if not isinstance(total, int) or total <= 0:
            return 400, {
                "code": "PARAM_ERROR",
                "message": "amount.total must be a positive integer",
            }
        if len(data["description"]) > 127:
            return 400, {"code": "PARAM_ERROR", "message": "description too long"}
        with self._lock:
            order = self._state.orders.get(data["out_trade_no"])
            if order is not None and order["total"] != total:
                return 400, {"code": "INVALID_REQUEST", "message": "201 商户订单号重复"}
            if order is None:
                order = {
                    "total": total,
                    "code_url": "weixin://wxpay/bizpayurl?pr=" + secrets.token_urlsafe(6),
                }
                self._state.orders[data["out_trade_no"]] = order
        return 200, {"code_url": order["code_url"]}

    def _refund(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        amount = data.get("amount") or {}
        if not data.get("out_trade_no") or not data.get("out_refund_no"):
            return 400, {"code": "PARAM_ERROR", "message": "missing out_trade_no or out_refund_no"}
        refund, total = amount.get("refund"), amount.get("total")
        if not isinstance(refund, int) or not isinstance(total, int) or not 0 < refund <= total:
            return 400, {"code": "PARAM_ERROR", "message": "bad refund amount"}
        if amount.get("currency") != "CNY":
            return 400, {"code": "PARAM_ERROR", "message": "currency must be CNY"}
        with self._lock:
            known = self._state.refunds.get(data["out_refund_no"])
            if known is None:
                known = {
                    "refund_id": "50000" + secrets.token_hex(12)[:24],
                    "status": self.refund_status,
                }
                self._state.refunds[data["out_refund_no"]] = known
        return 200, {
            "refund_id": known["refund_id"],
            "out_refund_no": data["out_refund_no"],
            "transaction_id": "42000" + secrets.token_hex(12)[:23],
            "out_trade_no": data["out_trade_no"],
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": _now_rfc3339(),
            "status": known["status"],
            "amount": {
                "total": total,
                "refund": refund,
                "payer_total": total,
                "payer_refund": refund,
                "settlement_refund": refund,
                "settlement_total": total,
                "discount_refund": 0,
                "currency": "CNY",
            },
        }


def _now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600))


class _Handler(BaseHTTPRequestHandler):
    fake: FakeWeChatPay
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, answer = self.fake._handle(
            self.command, self.path, dict(self.headers.items()), body
        )
        payload = b"" if answer is None else json.dumps(answer, ensure_ascii=False).encode()
        headers = self.fake.sign_headers(payload)
        if self.fake.tamper_responses:
            payload = (
                payload.replace(b"weixin://", b"weixin://evil.")
                if b"weixin://" in payload
                else payload + b" "
            )
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Request-ID", secrets.token_hex(16))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
