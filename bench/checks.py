"""Stock correctness after the load: every SKU's units in live orders plus its
stock left must equal its initial stock, and the flash crowd must have sold
exactly its stock.

Definitions (per SKU; "sold" = units on lines of orders that are not cancelled):
- oversell: sold > initial stock, or stock left < 0;
- mismatch: sold + stock left != initial stock (units lost or made up);
- undersell (the flash SKU): stock left > 0 although buyers were told
  `out_of_stock`.
"""

from __future__ import annotations

from bench.common import load, save, setup_django


def main() -> None:
    setup_django()
    from django.db.models import Sum

    from kinshop.catalog.models import SKU
    from kinshop.orders.models import Order, OrderLine

    seed = load("seed")
    crowd = load("crowd_hot")
    initial = {int(sku_id): stock for sku_id, stock in seed["initial_stock"].items()}
    sold = dict(
        OrderLine.objects.filter(sku_id__in=initial)
        .exclude(order__status=Order.Status.CANCELLED)
        .values("sku_id")
        .annotate(units=Sum("quantity"))
        .values_list("sku_id", "units")
    )
    left = dict(SKU.objects.filter(pk__in=initial).values_list("pk", "stock"))
    oversold = [
        sku_id for sku_id in initial if sold.get(sku_id, 0) > initial[sku_id] or left[sku_id] < 0
    ]
    mismatched = [
        sku_id for sku_id in initial if sold.get(sku_id, 0) + left[sku_id] != initial[sku_id]
    ]
    flash = seed["flash_sku"]
    told_sold_out = crowd["outcomes"].get("order:409:out_of_stock", 0)
    paid_flash_orders = (
        Order.objects.filter(lines__sku_id=flash, status=Order.Status.PAID).distinct().count()
    )
    result = {
        "flash_initial": initial[flash],
        "flash_sold": sold.get(flash, 0),
        "flash_left": left[flash],
        "flash_paid_orders": paid_flash_orders,
        "flash_ok_responses": crowd["ok"],
        "flash_sold_out_responses": told_sold_out,
        "oversell": len(oversold),
        "mismatch": len(mismatched),
        "undersell": int(left[flash] > 0 and told_sold_out > 0),
        "skus_checked": len(initial),
    }
    save("checks", result)
    print(
        f"  flash SKU: {result['flash_sold']} sold + {result['flash_left']} left of "
        f"{result['flash_initial']}; {paid_flash_orders} paid orders, {crowd['ok']} ok responses; "
        f"oversell {result['oversell']}, mismatch {result['mismatch']}, "
        f"undersell {result['undersell']} ({len(initial)} SKUs checked)"
    )


if __name__ == "__main__":
    main()
