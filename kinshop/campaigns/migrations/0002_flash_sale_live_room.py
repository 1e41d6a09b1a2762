from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_group_buys_groups_flash_sales"),
    ]

    operations = [
        migrations.AddField(
            model_name="flashsale",
            name="live_room_id",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="flashsale",
            index=models.Index(fields=["live_room_id"], name="flash_sale_live_room"),
        ),
    ]
