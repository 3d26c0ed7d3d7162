"""A deterministic, realistic sales data set for examples, tests and benchmarks.

Orders with a date, region, country, customer, product, category, quantity, a Decimal unit
price and a discount; a few nulls; names in many scripts. The same ``rows`` and ``seed``
always give the same frame.

    >>> from polarreports.sample import sales_data
    >>> sales_data(5).columns[:5]
    ['order_id', 'order_date', 'region', 'country', 'customer']
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import polars as pl

__all__ = ["invoice_data", "sales_data", "shipping_data", "statement_data", "write_sales_data"]

COUNTRIES = {
    "North": ["Norge", "Sverige", "Suomi", "Ísland", "Danmark"],
    "Central": ["Deutschland", "Österreich", "Schweiz", "Česko", "Polska"],
    "South": ["España", "Italia", "Portugal", "Ελλάδα", "Türkiye"],
    "West": ["France", "Belgique", "Nederland", "Ireland", "United Kingdom"],
    "East": ["日本", "India", "대한민국", "Việt Nam", "Singapore"],
}
REGION_WEIGHTS = {"North": 2, "Central": 4, "South": 3, "West": 4, "East": 3}
CUSTOMER_STEMS = [
    "Müller",
    "Søndergaard",
    "Åkesson",
    "Núñez",
    "Łukasiewicz",
    "Dvořák",
    "Öztürk",
    "Papadopoulos",
    "Fischer",
    "O'Brien",
    "García",
    "Rossi",
    "Janssens",
    "Lefèvre",
    "Sato",
    "Kim",
    "Nguyễn",
    "Patel",
    "Novak",
    "Virtanen",
    "Kowalski",
    "Horváth",
    "Johansson",
    "Costa",
]
CUSTOMER_KINDS = ["GmbH", "& Söhne", "AB", "S.A.", "Ltd", "Trading", "Group", "SARL", "Partners", "AG"]
PRODUCTS = {
    "Hardware": [('Laptop 14"', "899.00"), ('Monitor 27"', "249.90"), ("Dock USB-C", "129.50"), ("Keyboard", "59.99")],
    "Software": [("Office suite", "149.00"), ("Antivirus (1 yr)", "39.95"), ("CAD licence", "1299.00")],
    "Services": [("Installation", "85.00"), ("Support hour", "65.00"), ("Training day", "540.00")],
    "Supplies": [("Paper A4 ×5", "24.75"), ("Toner cartridge", "79.40"), ("Cables pack", "12.30")],
}


def _customers(rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """Each region's customers, each with its country."""
    result: dict[str, list[tuple[str, str]]] = {}
    names = [f"{stem} {kind}" for stem in CUSTOMER_STEMS for kind in CUSTOMER_KINDS]
    rng.shuffle(names)
    per_region = 12
    for i, region in enumerate(COUNTRIES):
        chosen = names[i * per_region : (i + 1) * per_region]
        result[region] = [(name, rng.choice(COUNTRIES[region])) for name in chosen]
    return result


def sales_data(rows: int = 2_000, *, seed: int = 7) -> pl.DataFrame:
    """``rows`` sales orders, the same for the same ``rows`` and ``seed``."""
    rng = random.Random(seed)
    customers = _customers(rng)
    products = [(name, category, Decimal(price)) for category, items in PRODUCTS.items() for name, price in items]
    regions = rng.choices(list(REGION_WEIGHTS), weights=list(REGION_WEIGHTS.values()), k=rows)
    start = dt.date(2024, 1, 1)
    picks = [rng.choice(customers[region]) for region in regions]
    chosen = rng.choices(products, k=rows)
    discounts = rng.choices([0.0, 0.05, 0.1, 0.15, None], weights=[60, 15, 12, 8, 5], k=rows)
    price_factor = rng.choices([Decimal("1.00"), Decimal("0.95"), Decimal("1.05"), Decimal("0.90")], k=rows)
    return pl.DataFrame(
        {
            "order_id": range(1, rows + 1),
            "order_date": [start + dt.timedelta(days=rng.randrange(731)) for _ in range(rows)],
            "region": regions,
            "country": [None if i % 97 == 13 else country for i, (_, country) in enumerate(picks)],
            "customer": [name for name, _ in picks],
            "product": [p[0] for p in chosen],
            "category": [p[1] for p in chosen],
            "quantity": [rng.randint(1, 40) for _ in range(rows)],
            "unit_price": [(p[2] * f).quantize(Decimal("0.01")) for p, f in zip(chosen, price_factor, strict=True)],
            "discount": discounts,
        },
        schema={
            "order_id": pl.Int64,
            "order_date": pl.Date,
            "region": pl.String,
            "country": pl.String,
            "customer": pl.String,
            "product": pl.String,
            "category": pl.String,
            "quantity": pl.Int32,
            "unit_price": pl.Decimal(12, 2),
            "discount": pl.Float64,
        },
    )


INVOICE_LINES = [
    ("Consulting: requirements workshop (2 days)", 2, "1180.00"),
    ('Laptop 14" with docking station and three-year on-site warranty', 3, "1028.50"),
    ('Monitor 27" IPS', 6, "249.90"),
    ("Installation and set-up", 9, "85.00"),
    ("Office suite licence (1 year)", 12, "149.00"),
    ("Antivirus licence (1 year)", 12, "39.95"),
    ("Support hours (April)", 14, "65.00"),
    ("Cables pack", 4, "12.30"),
    ("Training day: reporting with polarreports", 1, "540.00"),
    ("Travel expenses", 1, "186.40"),
]


def invoice_data() -> pl.DataFrame:
    """The line items of one invoice, with its header (number, dates, customer address)
    repeated on every line: the data of ``examples/invoice.yaml``.

    >>> invoice_data().select("description", "quantity").row(0)
    ('Consulting: requirements workshop (2 days)', 2)
    """
    lines = len(INVOICE_LINES)
    return pl.DataFrame(
        {
            "invoice_no": ["INV-2025-0427"] * lines,
            "invoice_date": [dt.date(2025, 4, 30)] * lines,
            "due_date": [dt.date(2025, 5, 30)] * lines,
            "customer_no": ["C-10482"] * lines,
            "customer": ["Søndergaard & Partners ApS"] * lines,
            "address": ["Attn. Mette Søndergaard\nStrandvejen 112, 2. sal\n2900 Hellerup\nDenmark"] * lines,
            "line": range(1, lines + 1),
            "description": [d for d, _, _ in INVOICE_LINES],
            "quantity": [q for _, q, _ in INVOICE_LINES],
            "unit_price": [Decimal(p) for _, _, p in INVOICE_LINES],
        },
        schema_overrides={"unit_price": pl.Decimal(12, 2), "quantity": pl.Int32},
    )


STATEMENT_CUSTOMERS = [
    ("C-10482", "Søndergaard & Partners ApS", "Strandvejen 112, 2. sal\n2900 Hellerup\nDenmark"),
    ("C-10517", "Müller Trading GmbH", "Königsallee 14\n40212 Düsseldorf\nGermany"),
    ("C-10533", "Costa S.A.", "Rua Augusta 220\n1100-053 Lisboa\nPortugal"),
    ("C-10561", "O'Brien Group Ltd", "14 Merrion Square\nDublin 2, D02 XE80\nIreland"),
    ("C-10578", "Nguyễn Partners", "12 Lê Lợi, Quận 1\nHồ Chí Minh\nViệt Nam"),
]


def statement_data(*, seed: int = 11) -> pl.DataFrame:
    """A year of invoices and payments for a few customers: the data of
    ``examples/customer_statement.yaml`` (one statement per customer, some of several pages).

    >>> statement_data().group_by("customer_no").len().sort("customer_no")["len"].to_list()
    [96, 18, 142, 7, 41]
    """
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    sizes = [96, 18, 142, 7, 41]
    for (number, name, address), size in zip(STATEMENT_CUSTOMERS, sizes, strict=True):
        day = dt.date(2025, 1, 2)
        unpaid: list[Decimal] = []
        for i in range(size):
            day += dt.timedelta(days=rng.randint(0, 4))
            invoice = i % 3 != 2
            amount = Decimal(rng.randint(4_000, 480_000)) / 100
            if invoice:
                unpaid.append(amount)
            else:  # a payment settles the oldest open invoice
                amount, unpaid = unpaid[0], unpaid[1:]
            rows.append(
                {
                    "customer_no": number,
                    "customer": name,
                    "address": address,
                    "date": day,
                    "reference": f"INV-25-{rng.randint(1000, 9999)}" if invoice else f"PAY-{rng.randint(100, 999)}",
                    "description": rng.choice(["Consulting", "Licences", "Hardware", "Support contract", "Training"])
                    if invoice
                    else "Payment received, thank you",
                    "debit": amount if invoice else None,
                    "credit": None if invoice else amount,
                }
            )
    return pl.DataFrame(rows, schema_overrides={"debit": pl.Decimal(12, 2), "credit": pl.Decimal(12, 2)})


def shipping_data(parcels: int = 20, *, seed: int = 5) -> pl.DataFrame:
    """Parcels to label (``examples/shipping_labels.yaml``): a parcel id (Code 128), the
    article's EAN (12 digits, the check digit added by the barcode), a tracking URL (QR), the
    service, and the recipient's name and address (lines separated by newlines).

    >>> shipping_data(3)["parcel_id"].to_list()
    ['PX-2025-000101', 'PX-2025-000102', 'PX-2025-000103']
    """
    rng = random.Random(seed)
    names = ["Ana Ortiz", "Björn Lund", "Chloé Martin", "Dara Okafor", "Eitan Levi", "Fatima Zahra", "Gao Wei"]
    streets = ["Rue des Lilas 4", "Storgatan 12", "Via Roma 88", "Hauptstraße 7", "Calle Mayor 23"]
    cities = [("75011", "Paris"), ("111 52", "Stockholm"), ("00184", "Roma"), ("10115", "Berlin"), ("28013", "Madrid")]
    rows = []
    for i in range(parcels):
        parcel = f"PX-2025-{101 + i:06d}"
        postcode, city = rng.choice(cities)
        rows.append(
            {
                "parcel_id": parcel,
                "ean": f"40063813{rng.randrange(10_000):04d}",
                "tracking_url": f"https://track.example/{parcel}",
                "service": rng.choice(["Express", "Standard", "Economy"]),
                "recipient": rng.choice(names),
                "address": f"{rng.choice(streets)}\n{postcode} {city}",
                "weight_kg": round(rng.uniform(0.2, 20.0), 1),
            }
        )
    return pl.DataFrame(rows)


def write_sales_data(path: str | Path, rows: int = 2_000, *, seed: int = 7) -> Path:
    """Write the sample data set to ``path`` (Parquet, CSV or IPC by suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = sales_data(rows, seed=seed)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.write_csv(path)
    elif suffix in {".ipc", ".arrow", ".feather"}:
        frame.write_ipc(path)
    else:
        frame.write_parquet(path)
    return path
