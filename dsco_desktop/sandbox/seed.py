"""Believable demo data for the sandbox: a small resale shop, its warehouses, buyers and orders.

Everything here is plain data built from a `random.Random`, so a seeded sandbox produces the
same shop and the same generated orders every time.
"""

from __future__ import annotations

import random
from typing import Any

WAREHOUSES: list[dict[str, Any]] = [
    {
        "code": "WH01",
        "name": "Main Warehouse",
        "address": ["1200 Commerce Way"],
        "city": "Reno",
        "region": "NV",
        "postal": "89502",
        "country": "US",
    },
    {
        "code": "WH02",
        "name": "East Coast Overflow",
        "address": ["45 Harbor Street", "Unit 7"],
        "city": "Edison",
        "region": "NJ",
        "postal": "08817",
        "country": "US",
    },
]

_PRODUCTS: list[tuple[str, str, str, float]] = [
    # (sku prefix, title, brand, cost)
    ("LLM-LEG", "Align High-Rise Legging 25in", "Lululemon", 38.0),
    ("NKE-AF1", "Air Force 1 '07 Sneaker", "Nike", 55.0),
    ("COA-TAB", "Tabby Shoulder Bag 26", "Coach", 120.0),
    ("FRP-JKT", "Boyfriend Denim Jacket", "Free People", 42.0),
    ("LEV-501", "501 Original Fit Jeans", "Levi's", 28.0),
    ("PAT-FLC", "Better Sweater Fleece Jacket", "Patagonia", 60.0),
    ("MAD-TOT", "The Transport Tote", "Madewell", 75.0),
    ("UGG-CLS", "Classic Mini II Boot", "UGG", 70.0),
    ("KAT-CRS", "Spade Flower Crossbody", "Kate Spade", 65.0),
    ("ANT-SWT", "Cable-Knit Pullover Sweater", "Anthropologie", 34.0),
    ("ZAR-DRS", "Satin Slip Midi Dress", "Zara", 22.0),
    ("JCR-BLZ", "Parke Blazer in Italian Wool", "J.Crew", 58.0),
    ("TNF-NUP", "1996 Retro Nuptse Jacket", "The North Face", 110.0),
    ("DMS-1460", "1460 Smooth Leather Boots", "Dr. Martens", 72.0),
    ("RLX-POL", "Classic Fit Mesh Polo", "Polo Ralph Lauren", 30.0),
]

_SIZES = {"default": ["S", "M", "L"], "shoe": ["7", "8", "9"]}
_COLORS = ["Black", "Heather Grey", "Navy", "Ivory", "Olive"]

FIRST_NAMES = [
    "Ashley", "Brianna", "Chloe", "Danielle", "Emily", "Hannah", "Jasmine", "Kayla",
    "Lauren", "Madison", "Natalie", "Olivia", "Paige", "Rachel", "Sierra", "Taylor",
    "Marcus", "Tyler", "Jordan", "Devin",
]  # fmt: skip
LAST_NAMES = [
    "Anderson", "Brooks", "Carter", "Diaz", "Evans", "Foster", "Garcia", "Hughes",
    "Jenkins", "Kim", "Lopez", "Morgan", "Nguyen", "Patel", "Reyes", "Sullivan",
]  # fmt: skip
_STREETS = [
    "Maple Ave", "Oak St", "Sunset Blvd", "Pine Ridge Rd", "Lakeview Dr", "Cedar Ln",
    "Willow Way", "Park Pl", "Highland Ave", "Meadow Ct",
]  # fmt: skip
CITIES: list[tuple[str, str, str]] = [
    ("Austin", "TX", "78704"),
    ("Portland", "OR", "97205"),
    ("Columbus", "OH", "43215"),
    ("Raleigh", "NC", "27601"),
    ("Denver", "CO", "80205"),
    ("Tampa", "FL", "33602"),
    ("San Jose", "CA", "95112"),
    ("Nashville", "TN", "37203"),
    ("Madison", "WI", "53703"),
    ("Scottsdale", "AZ", "85251"),
]


def upc_check_digit(first11: str) -> str:
    """The GS1 check digit for an 11-digit UPC-A body."""
    digits = [int(c) for c in first11]
    total = sum(digits[0::2]) * 3 + sum(digits[1::2])
    return str((10 - total % 10) % 10)


def gtin_check_digit_ok(code: str) -> bool:
    """True when the last digit of a UPC-A/EAN/GTIN is its correct GS1 check digit."""
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return False
    body, check = code[:-1], int(code[-1])
    total = 0
    # GS1 weights alternate 3,1,3,... starting from the digit next to the check digit.
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10 == check


def demo_catalog(rng: random.Random) -> list[dict[str, Any]]:
    """About three dozen catalog items (ItemCatalog shape) with valid UPCs and https images."""
    items: list[dict[str, Any]] = []
    serial = 0
    for prefix, title, brand, cost in _PRODUCTS[:12]:
        sizes = _SIZES["shoe"] if prefix.startswith(("NKE", "UGG", "DMS")) else _SIZES["default"]
        color = rng.choice(_COLORS)
        for size in sizes:
            serial += 1
            body = f"8{serial:05d}{rng.randrange(10**5):05d}"
            upc = body + upc_check_digit(body)
            sku = f"{prefix}-{color[:3].upper()}-{size}"
            price = round(cost * 2.2 - 0.01, 2)
            items.append(
                {
                    "sku": sku,
                    "title": f"{brand} {title} - {color}, Size {size}",
                    "productStatus": "active",
                    "brand": brand,
                    "upc": upc,
                    "cost": cost,
                    "msrp": round(price * 1.3, 2),
                    "listingPrices": {"USD": price},
                    "colorPrimaryDescription": color,
                    "sizePrimaryDescription": size,
                    "weight": round(rng.uniform(0.4, 3.5), 1),
                    "weightUnits": "lb",
                    "condition": "used",
                    "description": f"Gently used {brand} {title.lower()} in {color.lower()}.",
                    "images": [
                        {
                            "name": "front_view",
                            "reference": f"https://images.example.com/{sku.lower()}/front.jpg",
                        }
                    ],
                }
            )
    return items


def buyer(rng: random.Random) -> dict[str, Any]:
    """A Poshmark-like buyer with a US ship-to address (OrderShipping shape)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, region, postal = rng.choice(CITIES)
    street = f"{rng.randint(10, 9899)} {rng.choice(_STREETS)}"
    return {
        "name": f"{first} {last}",
        "firstName": first,
        "lastName": last,
        "address": [street],
        "address1": street,
        "city": city,
        "region": region,
        "state": region,
        "postal": postal,
        "country": "US",
        "phone": f"1555{rng.randrange(10**7):07d}",
        "email": f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@example.com",
        "addressType": "Residential",
    }


def random_order(rng: random.Random, skus: list[str], po_serial: int) -> dict[str, Any]:
    """A marketplace order of 1-3 distinct existing SKUs, in the retailer's createOrder shape."""
    count = min(len(skus), rng.randint(1, 3))
    lines = [
        {"sku": sku, "quantity": rng.choice([1, 1, 1, 2]), "lineNumber": n}
        for n, sku in enumerate(rng.sample(skus, count), start=1)
    ]
    return {
        "poNumber": f"PM{po_serial:08d}",
        "consumerOrderNumber": f"{rng.randrange(16**12):012x}",
        "channel": "Poshmark",
        "lineItems": lines,
        "shipping": buyer(rng),
        "shipCarrier": "USPS",
        "shipMethod": "Priority Mail",
        "shippingServiceLevelCode": "USPM",
    }
