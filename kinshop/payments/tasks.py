"""The money calls the task worker carries out after commit (see
`kinshop.core.tasks`). Each is recorded by a service in the transaction that
decides it, and is safe to run twice."""

from __future__ import annotations

from django_tasks import task


@task()
def send_provider_refund(provider_refund_id: int) -> str:
    """Send a recorded refund to the provider that took the money."""
    # Imported here: the services record this task, so they import this module.
    from kinshop.payments import services

    return services.send_provider_refund(provider_refund_id=provider_refund_id)
