"""Table specs for the feeding asset (see tables.py for conventions).

Quantities are whole multiples of 1/1024 kg (~1 g; purchases whole kg), so every sum SQL takes over
float4 or float8 columns is exact and the feed balance holds to the gram, not just to the kg.
"""
from ..config.years import FIRST_YEAR
from .schema import C, yearly

__all__ = ["FEEDING_EVENT", "FEED_PURCHASE", "FEED_STOCK", "FEED_LOT", "FEEDING_TABLES"]

FEEDING_EVENT = yearly("inventory", "feeding_event",
    C("id", "int8"), C("assignment_id", "int4"), C("batch_id", "int4"), C("container_id", "int4"),
    C("feed_id", "int4"), C("feed_container_id", "int4"), C("feeding_time", "timestamptz"),
    C("amount_kg", "float4"), C("batch_biomass_kg", "float4"), C("feeding_percentage", "float4"),
    C("feed_cost", "float4"), C("method", "text"), time_column="feeding_time",
    description="One meal (2-4 a day) of one assignment; a day's meals sum to its daily state's feed_kg. "
                "feed_cost = amount x the day's FIFO price of the feed in that feed container; "
                "feeding_percentage = amount / batch_biomass_kg x 100.")
FEED_PURCHASE = yearly("inventory", "feed_purchase",
    C("id", "int4"), C("feed_id", "int4"), C("supplier_id", "int4"), C("feed_container_id", "int4"),
    C("order_date", "date"), C("delivery_date", "date"), C("quantity_kg", "float8"),
    C("cost_per_kg", "float8"), C("lot_number", "text"), time_column="order_date",
    description="A feed order; it lands as one lot in the feed container on delivery_date "
                "(order_date + the supplier's lead time). Owned by the order date's year; orders "
                f"delivered before {FIRST_YEAR} are summarised by the opening lots (feed_lot).")
FEED_STOCK = yearly("inventory", "feed_stock",
    C("stock_date", "date"), C("feed_container_id", "int4"), C("feed_id", "int4"),
    C("opening_kg", "float8"), C("purchased_kg", "float8"), C("consumed_kg", "float8"),
    C("closing_kg", "float8"), C("consumed_cost", "float8"), time_column="stock_date",
    description="Daily balance per feed container and feed, on every day it holds stock or moves feed: "
                "opening + purchased - consumed = closing; a missing day means nothing held or moved. "
                "Deliveries land before the day's meals; consumed_cost is their FIFO cost.")
FEED_LOT = yearly("inventory", "feed_lot",
    C("purchase_id", "int4"), C("feed_container_id", "int4"), C("feed_id", "int4"),
    C("balance_date", "date"), C("delivery_date", "date"), C("cost_per_kg", "float8"),
    C("remaining_kg", "float8"),
    description="Lots held at the start of the year (balance_date = 1 January): what the year's FIFO "
                f"consumes first. For {FIRST_YEAR} this is the warm-up's stock (its purchases are not stored).")

FEEDING_TABLES = (FEEDING_EVENT, FEED_PURCHASE, FEED_STOCK, FEED_LOT)
