from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kinshop.trust.models import Complaint
from kinshop.web.forms import IdField

MAX_UPLOAD = 8 * 1024 * 1024


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ImagesField(forms.FileField):
    """Up to KINSHOP_REVIEW_MAX_IMAGES photos; the service checks each is an image."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": "image/*"}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if len(files) > settings.KINSHOP_REVIEW_MAX_IMAGES:
            raise forms.ValidationError(_("At most 6 photos."))
        for upload in files:
            if upload.size > MAX_UPLOAD:
                raise forms.ValidationError(_("A photo is at most 8 MB."))
        return [upload.read() for upload in files]


class ReviewForm(forms.Form):
    sku = IdField(label=_("Item"), widget=forms.HiddenInput)
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        choices=[(n, "★" * n) for n in (5, 4, 3, 2, 1)],
        coerce=int,
        widget=forms.RadioSelect,
        initial=5,
    )
    text = forms.CharField(label=_("Your review"), max_length=2000, widget=forms.Textarea)
    images = ImagesField(label=_("Photos (up to 6)"))


class TextForm(forms.Form):
    text = forms.CharField(label=_("Message"), max_length=2000, widget=forms.Textarea)


class ComplaintForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=Complaint.Reason.choices)
    text = forms.CharField(label=_("What happened"), max_length=2000, widget=forms.Textarea)
