"""Suppliers' verification documents: uploaded by their staff, kept privately,
opened by the operator in the admin only."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from kinshop import testing
from kinshop.catalog.models import SupplierDocument
from kinshop.core.storage import private_root

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _upload(user, supplier_id, content=PDF, kind="licence"):
    return testing.ApiClient(user).post(
        f"/suppliers/{supplier_id}/documents",
        {"kind": kind, "filename": "licence.pdf", "content": base64.b64encode(content).decode()},
    )


def test_staff_upload_a_licence_kept_out_of_public_media(supplier_pair, operator):
    supplier, staff = supplier_pair

    response = _upload(staff, supplier.id)

    assert response.status_code == 201, response.content
    document = SupplierDocument.objects.get()
    stored = Path(document.file.path)
    assert stored.read_bytes() == PDF
    assert private_root() in stored.parents
    assert Path(settings.MEDIA_ROOT) not in stored.parents
    with pytest.raises(ValueError):
        document.file.url  # noqa: B018 - no public URL exists
    # the operator opens it in the admin; anyone else is sent to sign in
    admin = Client()
    admin.force_login(operator)
    operator.is_superuser = True
    operator.save()
    url = f"/admin/catalog/supplier/document/{document.pk}/"
    opened = admin.get(url)
    assert opened.status_code == 200
    assert b"".join(opened.streaming_content) == PDF
    assert Client().get(url).status_code == 302


def test_only_staff_upload_and_only_documents(supplier_pair):
    supplier, staff = supplier_pair
    assert _upload(testing.make_user(), supplier.id).status_code == 403
    assert _upload(staff, supplier.id, content=b"GIF89a not a licence").status_code == 422
    assert _upload(staff, supplier.id, kind="selfie").status_code == 422
    assert _upload(staff, 999999).status_code == 404
    assert not SupplierDocument.objects.exists()
