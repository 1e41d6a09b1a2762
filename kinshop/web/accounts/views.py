"""Sign up, sign in and sign out. A sharer's code and the clicks this browser
made before signing in are kept across the session change."""

from __future__ import annotations

from django.contrib import auth, messages
from django.contrib.auth.views import LoginView
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kinshop.accounts import services
from kinshop.core import clock
from kinshop.core.device import device_of
from kinshop.sharing import services as sharing
from kinshop.web.accounts.forms import SignInForm, SignUpForm
from kinshop.web.forms import submit


def _claim_clicks(request, user) -> None:
    """Clicks made before signing in (same device; or, for a session from before
    device ids, same session) become this user's, so the sharer who brought them
    is not forgotten."""
    for visitor_key in {request.device_id, request.session.get("visitor_key", "")} - {""}:
        sharing.claim_anonymous_clicks(visitor_key=visitor_key, user=user)


class SignInView(LoginView):
    template_name = "web/accounts/sign_in.html"
    authentication_form = SignInForm

    def form_valid(self, form):
        share_code = self.request.session.get("share_code")
        visitor_key = self.request.session.get("visitor_key", "")
        response = super().form_valid(form)  # rotates the session
        with transaction.atomic():
            # The device signed in on is one of the person's identifiers.
            services.note_identifiers(
                user=form.get_user(),
                devices=[device_of(self.request)],
                at=clock.now(),
            )
        if share_code:
            self.request.session["share_code"] = share_code
        if visitor_key:
            self.request.session["visitor_key"] = visitor_key
        with transaction.atomic():
            _claim_clicks(self.request, form.get_user())
        return response


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


def _register(request, data):
    """The new account, with the clicks this browser made before it."""
    user = services.register(
        username=data["username"],
        password=data["password"],
        phone=data["phone"],
        device_id=device_of(request),
    )
    _claim_clicks(request, user)
    return user


@require_http_methods(["GET", "POST"])
def sign_up(request):
    form = SignUpForm(request.POST or None)
    user = submit(form, lambda data: _register(request, data))
    if user is not None:
        share_code = request.session.get("share_code")
        auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if share_code:
            request.session["share_code"] = share_code
        messages.success(request, _("Welcome to Kinshop!"))
        return redirect(_next_url(request))
    return render(request, "web/accounts/sign_up.html", {"form": form, "next": _next_url(request)})
