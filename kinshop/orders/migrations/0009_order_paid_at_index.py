from django.db import migrations, models


class Migration(migrations.Migration):
    """Orders by payment time: the trust screening job reads only the recent
    range of it, not the whole history."""

    dependencies = [
        ("orders", "0008_presale_orders"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["paid_at"], name="order_paid_at"),
        ),
    ]
