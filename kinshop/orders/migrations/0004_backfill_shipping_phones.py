"""Copy the phones existing orders were shipped to into accounts.ShippingPhone,
where attribution now compares them (sharing no longer reads orders)."""

from django.db import migrations


def backfill(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    ShippingPhone = apps.get_model("accounts", "ShippingPhone")
    first_use: dict[tuple[int, str], object] = {}
    for buyer_id, phone, created_at in Order.objects.order_by("id").values_list(
        "buyer_id", "recipient_phone", "created_at"
    ):
        phone = (phone or "").strip()[:20]
        if phone:
            first_use.setdefault((buyer_id, phone), created_at)
    ShippingPhone.objects.bulk_create(
        [
            ShippingPhone(user_id=user_id, phone=phone, first_used_at=at)
            for (user_id, phone), at in first_use.items()
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_status_change_history"),
        ("accounts", "0002_shippingphone"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
