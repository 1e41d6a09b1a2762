from __future__ import annotations

from django.contrib import auth, messages
from django.contrib.auth.views import LoginView
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kinshop.accounts import services
from kinshop.accounts.forms import SignUpForm
from kinshop.core.errors import DomainError
from kinshop.web.errors import error_text


def _claim_clicks(request, user) -> None:
    """Clicks made before signing in (same browser session) become this user's,
    so the sharer who brought them is not forgotten."""
    visitor_key = request.session.get("visitor_key", "")
    if visitor_key:
        from kinshop.sharing import services as sharing

        sharing.claim_anonymous_clicks(visitor_key=visitor_key, user=user)


class SignInView(LoginView):
    template_name = "accounts/sign_in.html"

    def form_valid(self, form):
        share_code = self.request.session.get("share_code")
        visitor_key = self.request.session.get("visitor_key", "")
        response = super().form_valid(form)  # rotates the session
        if share_code:
            self.request.session["share_code"] = share_code
        if visitor_key:
            self.request.session["visitor_key"] = visitor_key
            with transaction.atomic():
                _claim_clicks(self.request, form.get_user())
        return response


def _account_error(error: DomainError) -> str:
    """Registration problems the person can fix, in their language."""
    known = {
        "username_taken": _("This username is taken. Try another one."),
        # Django's password validators already speak the person's language.
        "weak_password": error.message,
        "invalid_username": _("A username has 3 to 150 letters, digits or . @ + - _."),
        "invalid_phone": _("Enter a valid phone number."),
    }
    return known.get(error.code) or error_text(error)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


@require_http_methods(["GET", "POST"])
def sign_up(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = services.register(
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                    phone=form.cleaned_data["phone"],
                )
                _claim_clicks(request, user)
        except DomainError as error:
            form.add_error(None, _account_error(error))
        else:
            share_code = request.session.get("share_code")
            auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if share_code:
                request.session["share_code"] = share_code
            messages.success(request, _("Welcome to Kinshop!"))
            return redirect(_next_url(request))
    return render(request, "accounts/sign_up.html", {"form": form, "next": _next_url(request)})
