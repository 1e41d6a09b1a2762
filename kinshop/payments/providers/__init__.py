"""The registry of payment providers, by name."""

from __future__ import annotations

from kinshop.core.errors import InvalidInput
from kinshop.payments.providers.base import Provider
from kinshop.payments.providers.offline import OfflineProvider
from kinshop.payments.providers.sandbox import SandboxProvider
from kinshop.payments.providers.wechatpay import WeChatPayProvider


def _registry() -> dict[str, Provider]:
    return {
        "sandbox": SandboxProvider(),
        "offline": OfflineProvider(),
        "wechatpay": WeChatPayProvider(),
    }


def get_provider(name: str, *, must_be_enabled: bool = True) -> Provider:
    provider = _registry().get(name)
    if provider is None or (must_be_enabled and not provider.is_enabled()):
        raise InvalidInput(
            f"The payment provider '{name}' is not available.", code="unknown_provider"
        )
    return provider


def enabled_provider_names() -> list[str]:
    return [name for name, provider in _registry().items() if provider.is_enabled()]
