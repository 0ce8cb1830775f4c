#!/usr/bin/env python3
"""Builds the bundled quick-start sample from the UCI Online Retail data set (see NOTICE).

Usage: python3 samples/make_sample.py ../shared/datasets/uci-online-retail samples/uci-online-retail

Keeps every product with a title and a sold price, derives a category from keywords in the title (the data set has
none) and an in-stock flag (sold in the last three months of the data), and keeps the complete
order history of a fixed random subset of customers so baskets and co-purchases stay intact.
"""
import csv
import gzip
import random
import re
import sys
from pathlib import Path

CUSTOMER_SHARE = 0.25
SEED = 20111209
IN_STOCK_SINCE = "2011-09-01"

# First matching rule wins; order matters (a "CHRISTMAS CANDLE" is seasonal before it is lighting).
CATEGORY_RULES = [
    ("Christmas", r"CHRISTMAS|XMAS|ADVENT|SANTA|REINDEER|SNOWFLAKE|BAUBLE"),
    ("Candles & Lighting", r"CANDLE|T-LIGHT|TLIGHT|LANTERN|LIGHT|LAMP|NIGHT LIGHT"),
    ("Bags & Storage", r"\bBAG\b|BAGS|STORAGE|BASKET|BOX|TIN|CASE|HOLDER"),
    ("Kitchen & Dining", r"MUG|CUP|TEA|PLATE|BOWL|JAR|BOTTLE|LUNCH|CAKE|BAKING|NAPKIN|CUTLERY|SPOON|TRAY|KITCHEN|JUG|GLASS|APRON|COASTER"),
    ("Cards & Wrap", r"CARD|WRAP|PAPER|RIBBON|TAG|ENVELOPE|NOTEBOOK|PENCIL|PEN\b|STICKER|CRAYON|CHALK"),
    ("Jewellery & Accessories", r"NECKLACE|EARRING|BRACELET|RING\b|HAIR|PURSE|UMBRELLA|BROOCH|CHARM|SCARF"),
    ("Toys & Kids", r"TOY|GAME|DOLL|PUZZLE|CHILDRENS|SPACEBOY|DOLLY|PLAYHOUSE|SKIPPING|JIGSAW|TEDDY|BLOCKS"),
    ("Garden", r"GARDEN|PLANT|WATERING|FLOWER POT|BIRD|FEEDER|HERB"),
    ("Home Decor", r"SIGN|FRAME|CLOCK|MIRROR|HOOK|CUSHION|DOORMAT|WALL|DOORSTOP|HEART|DECORATION|VASE|BUNTING|GARLAND|HANGING"),
]


def category_of(title: str) -> str:
    for name, pattern in CATEGORY_RULES:
        if re.search(pattern, title):
            return name
    return "Gifts & Other"


def read_csv(path: Path):
    with gzip.open(path, "rt", newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)


def main(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    # A product without a title or a sold price cannot be shown in a storefront.
    products = [p for p in read_csv(source / "products.csv.gz") if p["Description"].strip() and p["MedianUnitPrice"]]
    with open(target / "products.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["product_id", "title", "category", "price", "in_stock"])
        for p in products:
            in_stock = p["LastSold"] >= IN_STOCK_SINCE
            w.writerow([p["StockCode"], p["Description"].strip(), category_of(p["Description"]), p["MedianUnitPrice"], "true" if in_stock else "false"])

    orders = list(read_csv(source / "orders.csv.gz"))
    customers = sorted({o["CustomerID"] for o in orders})
    kept = set(random.Random(SEED).sample(customers, int(len(customers) * CUSTOMER_SHARE)))
    order_meta = {o["InvoiceNo"]: o for o in orders if o["CustomerID"] in kept}
    known = {p["StockCode"] for p in products}
    lines = 0
    with gzip.open(target / "order_lines.csv.gz", "wt", newline="", encoding="utf-8", compresslevel=9) as f:
        w = csv.writer(f)
        w.writerow(["order_id", "user_id", "occurred_at", "product_id", "quantity", "price"])
        for item in read_csv(source / "order_items.csv.gz"):
            order = order_meta.get(item["InvoiceNo"])
            if order is None or item["StockCode"] not in known:
                continue
            w.writerow([item["InvoiceNo"], order["CustomerID"], order["InvoiceDate"], item["StockCode"], item["Quantity"], item["UnitPrice"]])
            lines += 1
    print(f"{len(products)} products, {len(kept)} customers, {len(order_meta)} orders, {lines} order lines")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
