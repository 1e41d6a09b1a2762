"""Project-wide promises: migrations match models; the OpenAPI lists the contract."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

CONTRACT_OPERATIONS = {
    "register",
    "create_token",
    "me",
    "verify_identity",
    "apply_supplier",
    "verify_supplier",
    "create_product",
    "list_products",
    "get_product",
    "adjust_stock",
    "open_shop",
    "add_selection",
    "get_shop",
}


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)


def test_openapi_lists_every_contract_operation(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    operation_ids = {
        operation["operationId"]
        for path in response.json()["paths"].values()
        for operation in path.values()
    }
    assert operation_ids >= CONTRACT_OPERATIONS
