"""The operator's console: Django's admin, titled and themed for Kinshop."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class KinshopAdminSite(admin.AdminSite):
    site_header = _("Kinshop operator console")
    site_title = _("Kinshop operator")
    index_title = _("Operations")

    def login(self, request, extra_context=None):
        # Throttled like the sign-in page. (Imported here: this module is
        # loaded as the admin's app config, before models can be.)
        from kinshop.web.accounts.forms import AdminSignInForm

        self.login_form = AdminSignInForm
        return super().login(request, extra_context)


class KinshopAdminConfig(AdminConfig):
    default_site = "kinshop.admin_site.KinshopAdminSite"
