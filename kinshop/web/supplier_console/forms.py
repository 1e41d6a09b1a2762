"""Forms of the supplier console."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kinshop.catalog.services import NewSku
from kinshop.core.money import parse_yuan
from kinshop.web.forms import YuanField

SKU_ROWS = 3


class ApplySupplierForm(forms.Form):
    name = forms.CharField(label=_("Business name"), max_length=120)
    license_no = forms.CharField(label=_("Business licence number"), max_length=60)
    description = forms.CharField(
        label=_("What you supply"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class PercentField(forms.CharField):
    """A rate typed in percent with at most two decimals ('10', '12.5'),
    cleaned to basis points exactly (12.5 % → 1250)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        if len(value) > 8:
            raise forms.ValidationError(_("Enter a percentage, like 10 or 12.5."))
        try:
            percent = Decimal(value.strip().rstrip("%"))
        except InvalidOperation:
            raise forms.ValidationError(_("Enter a percentage, like 10 or 12.5.")) from None
        basis_points = percent * 100
        if basis_points != basis_points.to_integral_value() or basis_points < 0:
            raise forms.ValidationError(_("Enter a percentage, like 10 or 12.5."))
        return int(basis_points)


class ProductForm(forms.Form):
    """A product with up to three SKU rows; a row without a code is left out."""

    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    commission_rate = PercentField(
        label=_("Commission rate (%)"),
        help_text=_("Paid to the sharer who brought the purchase, one level only."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for row in range(1, SKU_ROWS + 1):
            required = row == 1
            self.fields[f"sku{row}_code"] = forms.CharField(
                label=_("Code"), max_length=60, required=required
            )
            self.fields[f"sku{row}_name"] = forms.CharField(
                label=_("Name"), max_length=120, required=False
            )
            self.fields[f"sku{row}_supply"] = YuanField(label=_("Supply price"), required=False)
            self.fields[f"sku{row}_min"] = YuanField(label=_("Lowest retail"), required=False)
            self.fields[f"sku{row}_max"] = YuanField(label=_("Highest retail"), required=False)
            self.fields[f"sku{row}_suggested"] = YuanField(
                label=_("Suggested retail"), required=False
            )
            self.fields[f"sku{row}_stock"] = forms.IntegerField(
                label=_("Stock"), min_value=0, required=False, initial=0
            )

    def sku_rows(self):
        """Bound fields grouped per row, for the template."""
        return [
            [
                self[f"sku{row}_{name}"]
                for name in ("code", "name", "supply", "min", "max", "suggested", "stock")
            ]
            for row in range(1, SKU_ROWS + 1)
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned is None:  # Form.clean returns cleaned_data; None means "keep it".
            cleaned = self.cleaned_data
        skus = []
        for row in range(1, SKU_ROWS + 1):
            code = (cleaned.get(f"sku{row}_code") or "").strip()
            if not code:
                continue
            prices: dict[str, int] = {}
            missing = False
            for name in ("supply", "min", "max", "suggested"):
                value = cleaned.get(f"sku{row}_{name}")
                if value is None:
                    if f"sku{row}_{name}" not in self.errors:
                        self.add_error(f"sku{row}_{name}", _("Enter a price."))
                    missing = True
                else:
                    prices[name] = value
            if missing:
                continue
            skus.append(
                NewSku(
                    code=code,
                    name=(cleaned.get(f"sku{row}_name") or "").strip(),
                    supply_price=prices["supply"],
                    retail_min=prices["min"],
                    retail_max=prices["max"],
                    suggested_retail_price=prices["suggested"],
                    stock=cleaned.get(f"sku{row}_stock") or 0,
                )
            )
        cleaned["skus"] = skus
        return cleaned


class StockForm(forms.Form):
    delta = forms.IntegerField(
        label=_("Change"),
        help_text=_("Positive to add units, negative to remove them."),
        min_value=-(2**31 - 1),
        max_value=2**31 - 1,
    )


class ShipForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=40)
    tracking_no = forms.CharField(label=_("Tracking number"), max_length=60)


class RefundDecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    restock = forms.BooleanField(label=_("Put the units back in stock"), required=False)


TIER_ROWS = 3


def tier_field_names(row: int) -> tuple[str, str]:
    return f"tier{row}_quantity", f"tier{row}_price"


def parse_tiers(data) -> tuple[list[tuple[int, int]], list[str]]:
    """The wholesale tiers typed for a SKU: up to three rows of (from quantity,
    price in yuan); a row left blank is left out, all blank clears the tiers."""
    tiers: list[tuple[int, int]] = []
    problems: list[str] = []
    for row in range(TIER_ROWS):
        quantity_name, price_name = tier_field_names(row)
        quantity_text = (data.get(quantity_name) or "").strip()
        price_text = (data.get(price_name) or "").strip()
        if not quantity_text and not price_text:
            continue
        try:
            quantity = int(quantity_text)
            price = parse_yuan(price_text)
        except ValueError:
            problems.append(gettext("Give each tier a quantity and a price in yuan, like 55.00."))
            continue
        tiers.append((quantity, price))
    return tiers, problems
