"""The sharer centre (/me/): every signed-in person's wallets, share links,
wallet entries, identity and withdrawals. A person sees only their own: each
wallet is resolved from the user by `ledger.queries.owner_for`, never from the URL."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from kinshop.accounts import services as accounts
from kinshop.accounts.models import IdentityVerification
from kinshop.catalog.models import SupplierMembership
from kinshop.core.money import format_money
from kinshop.ledger import queries, services
from kinshop.ledger.models import Withdrawal
from kinshop.orders import queries as order_queries
from kinshop.shops.models import Shop
from kinshop.web.forms import submit
from kinshop.web.sharer.forms import IdentityForm, WithdrawalForm

PAGE_SIZE = 20
WALLET_LABELS = {
    Withdrawal.Wallet.SHARER: gettext_lazy("Commission"),
    Withdrawal.Wallet.SHOP: gettext_lazy("Shop margin"),
    Withdrawal.Wallet.SUPPLIER: gettext_lazy("Supplier payable"),
}
ACCOUNT_LABELS = {
    "pending": gettext_lazy("Pending"),
    "available": gettext_lazy("Available"),
    "withdrawal_hold": gettext_lazy("Withdrawal requested"),
    "payout": gettext_lazy("Paid out"),
}


def _wallets(user) -> list[tuple[str, str]]:
    """The wallets this person has: always their commission, plus their shop's
    margin and their supplier's payable when they keep a shop or staff one."""
    wallets = [(Withdrawal.Wallet.SHARER.value, str(WALLET_LABELS[Withdrawal.Wallet.SHARER]))]
    if Shop.objects.filter(owner=user).exists():
        wallets.append((Withdrawal.Wallet.SHOP.value, str(WALLET_LABELS[Withdrawal.Wallet.SHOP])))
    if SupplierMembership.objects.filter(user=user).exists():
        wallets.append(
            (Withdrawal.Wallet.SUPPLIER.value, str(WALLET_LABELS[Withdrawal.Wallet.SUPPLIER]))
        )
    return wallets


def _chosen_wallet(request, wallets) -> str:
    wanted = request.GET.get("as", Withdrawal.Wallet.SHARER)
    return wanted if wanted in dict(wallets) else Withdrawal.Wallet.SHARER


def _page(request, queryset, size: int = PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


@login_required
def overview(request):
    wallets = _wallets(request.user)
    wallet_name = _chosen_wallet(request, wallets)
    wallet = queries.wallet(request.user, wallet_name)
    return render(
        request,
        "web/sharer/overview.html",
        {
            "tab": "overview",
            "wallets": wallets,
            "wallet_name": wallet_name,
            "wallet": wallet,
            "page_obj": _page(
                request, order_queries.my_shares(request.user).select_related("product"), 10
            ),
            "is_verified": accounts.is_identity_verified(request.user),
        },
    )


@login_required
def entries(request):
    wallets = _wallets(request.user)
    wallet_name = _chosen_wallet(request, wallets)
    page_obj = _page(request, queries.wallet_postings(request.user, wallet_name))
    rows = [
        {
            "posting": posting,
            "entry": posting.entry,
            # As the wallet sees it: money owed to the party is positive.
            "amount": -posting.amount,
            "account_label": ACCOUNT_LABELS.get(posting.account.kind, posting.account.kind),
        }
        for posting in page_obj
    ]
    return render(
        request,
        "web/sharer/entries.html",
        {
            "tab": "entries",
            "wallets": wallets,
            "wallet_name": wallet_name,
            "page_obj": page_obj,
            "rows": rows,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def identity(request):
    verified = IdentityVerification.objects.filter(user=request.user).first()
    form = IdentityForm(request.POST or None)
    identity = submit(
        form,
        lambda data: accounts.verify_identity(
            user=request.user, real_name=data["real_name"], id_number=data["id_number"]
        ),
    )
    if identity is not None:
        messages.success(request, _("Your identity is verified."))
        return redirect("sharer:identity")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "web/sharer/identity.html",
        {"tab": "identity", "form": form, "verified": verified},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request):
    wallets = _wallets(request.user)
    form = WithdrawalForm(
        request.POST or None,
        wallets=wallets,
        initial={"wallet": _chosen_wallet(request, wallets)},
    )
    withdrawal = submit(
        form,
        lambda data: services.request_withdrawal(
            user=request.user, amount=data["amount"], wallet=data["wallet"]
        ),
    )
    if withdrawal is not None:
        messages.success(
            request,
            _("Withdrawal of %(amount)s requested: an operator will review it.")
            % {"amount": format_money(withdrawal.amount, withdrawal.currency)},
        )
        return redirect("sharer:withdrawals")
    status = 422 if request.method == "POST" else 200
    balances = [
        {"name": name, "label": label, "wallet": queries.wallet(request.user, name)}
        for name, label in wallets
    ]
    return render(
        request,
        "web/sharer/withdraw.html",
        {
            "tab": "withdraw",
            "form": form,
            "balances": balances,
            "is_verified": accounts.is_identity_verified(request.user),
            "page_obj": _page(
                request, Withdrawal.objects.filter(user=request.user).order_by("-id")
            ),
        },
        status=status,
    )


@login_required
def withdrawals(request):
    return render(
        request,
        "web/sharer/withdrawals.html",
        {
            "tab": "withdraw",
            "page_obj": _page(
                request, Withdrawal.objects.filter(user=request.user).order_by("-id")
            ),
        },
    )
