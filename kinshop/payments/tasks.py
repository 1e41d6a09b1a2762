"""The money calls the task worker carries out after commit (see
`kinshop.core.tasks`). Each is recorded by a service in the transaction that
decides it, and is safe to run twice."""

from __future__ import annotations

from django_tasks import task

from kinshop.payments import services


@task()
def send_provider_refund(provider_refund_id: int) -> str:
    """Send a recorded refund to the provider that took the money."""
    return services.send_provider_refund(provider_refund_id=provider_refund_id)
