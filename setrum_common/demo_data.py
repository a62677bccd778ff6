"""The demo data set every service seeds from, so ids agree across services.

Deterministic: the same meters, customers and rates on every machine. Figures for tariffs,
PPJ and denominations are those of docs/domain.md §Tariffs and power classes and §Taxes (PLN tariff
announcements through 2025 and the regional tax examples). Demo passwords are for development seeding only.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .identifiers import luhn_check_digit

__all__ = [
    "DemoCustomer",
    "DemoMeter",
    "DemoRegion",
    "DemoPpjRule",
    "DemoTariff",
    "CUSTOMERS",
    "ADMIN",
    "METERS",
    "REGIONS",
    "PPJ_RULES",
    "TARIFFS",
    "DENOMINATIONS",
    "DEFAULT_CHANNEL",
    "CHANNEL_ADMIN_FEES",
    "STAMP_DUTY_THRESHOLD",
    "STAMP_DUTY_AMOUNT",
    "SAVED_METERS",
    "WALLET_OPENING_BALANCES",
    "DEMO_PASSWORD",
    "STS_IIN",
    "STS_KEY_TYPE",
    "STS_SUPPLY_GROUP",
    "STS_TARIFF_INDEX",
    "STS_KEY_REVISION",
]

DEMO_PASSWORD = "setrum-demo-2026"  # development seed only; sign-in with it in the README example

TARIFF_EFFECTIVE_FROM = date(2024, 1, 1)


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    id: str
    name: str
    email: str
    phone: str
    role: str  # CUSTOMER | ADMIN


ADMIN = DemoCustomer(
    "00000000-0000-4000-8000-000000000001", "Setrum Admin", "admin@setrum.id", "+628110000001", "ADMIN"
)
CUSTOMERS: tuple[DemoCustomer, ...] = (
    ADMIN,
    DemoCustomer(
        "00000000-0000-4000-8000-000000000002", "Siti Rahmawati", "siti@example.id", "+6281234560002", "CUSTOMER"
    ),
    DemoCustomer(
        "00000000-0000-4000-8000-000000000003", "Budi Santoso", "budi@example.id", "+6281234560003", "CUSTOMER"
    ),
    DemoCustomer(
        "00000000-0000-4000-8000-000000000004", "Dewi Lestari", "dewi@example.id", "+6281234560004", "CUSTOMER"
    ),
    DemoCustomer(
        "00000000-0000-4000-8000-000000000005", "Agus Pratama", "agus@example.id", "+6281234560005", "CUSTOMER"
    ),
)


@dataclass(frozen=True, slots=True)
class DemoRegion:
    code: str
    name: str


REGIONS: tuple[DemoRegion, ...] = (
    DemoRegion("DKI", "DKI Jakarta"),
    DemoRegion("BGR", "Kabupaten Bogor"),
    DemoRegion("CJR", "Kabupaten Cianjur"),
    DemoRegion("BTL", "Kabupaten Bantul"),
    DemoRegion("PDG", "Kota Padang"),
)


@dataclass(frozen=True, slots=True)
class DemoPpjRule:
    """PPJ rate for a region, optionally narrowed to tariff classes and a power band (VA, inclusive)."""

    region: str
    rate: Decimal
    tariff_classes: tuple[str, ...] = ()  # empty: any class
    min_va: int = 0
    max_va: int | None = None


_INDUSTRY = ("I3", "I4")
PPJ_RULES: tuple[DemoPpjRule, ...] = (
    DemoPpjRule("DKI", Decimal("0.024"), (), 0, 2200),
    DemoPpjRule("DKI", Decimal("0.03"), (), 3500, 5500),
    DemoPpjRule("DKI", Decimal("0.04"), (), 6600, None),
    DemoPpjRule("BGR", Decimal("0.03"), ("R1", "R1M"), 900, 1300),
    DemoPpjRule("BGR", Decimal("0.05"), ("R1",), 2200, 2200),
    DemoPpjRule("BGR", Decimal("0.05"), ("R2", "B2"), 0, None),
    DemoPpjRule("BGR", Decimal("0.06"), ("R3",), 0, None),
    DemoPpjRule("CJR", Decimal("0.03"), _INDUSTRY, 0, None),
    DemoPpjRule("CJR", Decimal("0.10"), (), 0, None),
    DemoPpjRule("BTL", Decimal("0.03"), _INDUSTRY, 0, None),
    DemoPpjRule("BTL", Decimal("0.08"), (), 0, None),
    DemoPpjRule("PDG", Decimal("0.03"), _INDUSTRY, 0, None),
    DemoPpjRule("PDG", Decimal("0.10"), (), 0, None),
)


@dataclass(frozen=True, slots=True)
class DemoTariff:
    """Rp/kWh for a tariff class and power band (VA, inclusive), with the PPN rule of the class."""

    code: str
    min_va: int
    max_va: int | None
    rate: Decimal
    ppn_rate: Decimal = Decimal("0")
    description: str = ""


TARIFFS: tuple[DemoTariff, ...] = (
    DemoTariff("R1", 450, 450, Decimal("415"), description="R-1 subsidised 450 VA"),
    DemoTariff("R1", 900, 900, Decimal("605"), description="R-1 subsidised 900 VA"),
    DemoTariff("R1M", 900, 900, Decimal("1352"), description="R-1M non-subsidised 900 VA"),
    DemoTariff("R1", 1300, 2200, Decimal("1444.70"), description="R-1 1,300-2,200 VA"),
    DemoTariff("R2", 3500, 5500, Decimal("1699.53"), description="R-2 3,500-5,500 VA"),
    DemoTariff("R3", 6600, None, Decimal("1699.53"), Decimal("0.11"), "R-3 from 6,600 VA (PPN 11%)"),
    DemoTariff("B2", 6600, 200_000, Decimal("1444.70"), description="B-2 business 6,600 VA-200 kVA"),
    DemoTariff("B3", 200_001, None, Decimal("1114.74"), description="B-3 business above 200 kVA"),
    DemoTariff("I3", 200_001, None, Decimal("1114.74"), description="I-3 industry above 200 kVA"),
    DemoTariff("I4", 30_000_000, None, Decimal("996.74"), description="I-4 industry from 30,000 kVA"),
    DemoTariff("P1", 0, None, Decimal("1699.53"), description="P-1 government offices"),
    DemoTariff("P2", 200_001, None, Decimal("1522.88"), description="P-2 government above 200 kVA"),
    DemoTariff("P3", 0, None, Decimal("1699.53"), description="P-3 public street lighting"),
    DemoTariff("L", 0, None, Decimal("1644.52"), description="L special services"),
)

DENOMINATIONS: tuple[Decimal, ...] = tuple(
    Decimal(v) for v in (20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 5_000_000, 10_000_000, 50_000_000)
)
DEFAULT_CHANNEL = "setrum-app"
CHANNEL_ADMIN_FEES: dict[str, Decimal] = {
    DEFAULT_CHANNEL: Decimal("2500"),
    "setrum-agent": Decimal("3500"),
    "setrum-promo": Decimal("0"),
}
STAMP_DUTY_THRESHOLD = Decimal("5000000")  # stamp duty on purchases ABOVE this nominal
STAMP_DUTY_AMOUNT = Decimal("10000")

# STS key parameters shared by the demo meter register (the biller owns them in production).
STS_IIN = "600727"
STS_KEY_TYPE = 2
STS_SUPPLY_GROUP = "123456"
STS_TARIFF_INDEX = "01"
STS_KEY_REVISION = 1


@dataclass(frozen=True, slots=True)
class DemoMeter:
    number: str
    idpel: str
    holder_name: str
    tariff_code: str
    power_va: int
    region: str
    status: str = "ACTIVE"  # ACTIVE | BLOCKED
    sts_base_date: int = 2014  # 1993 meters have not had their key change yet
    instalment: Decimal = Decimal("0")  # taken from each purchase...
    instalment_debt: Decimal = Decimal("0")  # ...until this much is paid


_FIRST_NAMES = (
    "Ahmad",
    "Siti",
    "Budi",
    "Dewi",
    "Agus",
    "Sri",
    "Eko",
    "Rina",
    "Hendra",
    "Wati",
    "Joko",
    "Yuni",
    "Bambang",
    "Lestari",
    "Rudi",
    "Nur",
    "Andi",
    "Fitri",
    "Dedi",
    "Maya",
    "Teguh",
    "Ayu",
    "Hadi",
    "Ratna",
)
_LAST_NAMES = (
    "Santoso",
    "Wijaya",
    "Saputra",
    "Hidayat",
    "Kusuma",
    "Pratama",
    "Nugroho",
    "Rahmawati",
    "Susanto",
    "Lestari",
    "Setiawan",
    "Purnomo",
    "Halim",
    "Siregar",
    "Nasution",
    "Simanjuntak",
)
# (tariff code, power VA) mix of a realistic household-heavy population.
_PRODUCTS = (
    ("R1", 450),
    ("R1", 900),
    ("R1M", 900),
    ("R1", 1300),
    ("R1", 1300),
    ("R1", 2200),
    ("R1", 2200),
    ("R2", 3500),
    ("R2", 5500),
    ("R3", 7700),
    ("R3", 11000),
    ("B2", 6600),
    ("B2", 23000),
    ("P1", 4400),
)


def _meter_number(rng: random.Random) -> str:
    payload = "1" + "".join(str(rng.randrange(10)) for _ in range(9))
    return payload + luhn_check_digit(payload)


def _build_meters() -> tuple[DemoMeter, ...]:
    rng = random.Random(20260101)
    meters = [
        # The example meter of docs/domain.md §Identifiers (and of its worked examples).
        DemoMeter("14233784991", "543400893197", "Siti Rahmawati", "R1", 1300, "DKI"),
        DemoMeter(*("56001234568", "543400893210", "Budi Santoso", "R3", 7700, "DKI")),
    ]
    seen = {m.number for m in meters}
    idpels = {m.idpel for m in meters}
    regions = [r.code for r in REGIONS]
    while len(meters) < 50:
        number = _meter_number(rng)
        idpel = "5" + "".join(str(rng.randrange(10)) for _ in range(11))
        if number in seen or idpel in idpels:
            continue
        seen.add(number)
        idpels.add(idpel)
        tariff, va = _PRODUCTS[len(meters) % len(_PRODUCTS)]
        holder = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
        index = len(meters)
        meters.append(
            DemoMeter(
                number,
                idpel,
                holder,
                tariff,
                va,
                regions[index % len(regions)],
                status="BLOCKED" if index in (7, 31) else "ACTIVE",
                sts_base_date=1993 if index == 13 else 2014,
                instalment=Decimal("5000") if index == 17 else Decimal("0"),
                instalment_debt=Decimal("20000") if index == 17 else Decimal("0"),
            )
        )
    return tuple(meters)


def bench_meters(count: int) -> tuple[DemoMeter, ...]:
    """``count`` extra 23,000 VA business meters for load benches. Each may take about 16,500 kWh a month
    (some 1,200 purchases of Rp 20,000), and a storm at several hundred purchases a second passes the
    demo meters' caps within a minute: a bench measuring capacity must not be measuring the cap."""
    rng = random.Random(20261202)
    taken = {m.number for m in _DEMO_METERS} | {m.idpel for m in _DEMO_METERS}
    meters: list[DemoMeter] = []
    while len(meters) < count:
        number = _meter_number(rng)
        idpel = "5" + "".join(str(rng.randrange(10)) for _ in range(11))
        if number in taken or idpel in taken:
            continue
        taken |= {number, idpel}
        meters.append(DemoMeter(number, idpel, f"Bench Meter {len(meters) + 1}", "B2", 23000, "DKI"))
    return tuple(meters)


_DEMO_METERS = _build_meters()
# SETRUM_DEMO_BENCH_METERS (set by `python -m bench` for the systems it starts) adds bench meters to
# the demo data every service seeds; unset, the demo data is the 50 meters above.
METERS: tuple[DemoMeter, ...] = _DEMO_METERS + bench_meters(int(os.environ.get("SETRUM_DEMO_BENCH_METERS") or 0))

# (customer id, meter number, alias) — meters customers have saved in the app.
SAVED_METERS: tuple[tuple[str, str, str], ...] = (
    (CUSTOMERS[1].id, METERS[0].number, "Rumah"),
    (CUSTOMERS[1].id, METERS[3].number, "Kos Depok"),
    (CUSTOMERS[2].id, METERS[1].number, "Rumah"),
    (CUSTOMERS[2].id, METERS[5].number, "Toko"),
    (CUSTOMERS[3].id, METERS[8].number, "Rumah Ibu"),
    (CUSTOMERS[4].id, METERS[10].number, "Rumah"),
)

# Opening wallet balances (integer rupiah) for the demo customers.
WALLET_OPENING_BALANCES: dict[str, Decimal] = {
    CUSTOMERS[1].id: Decimal("2000000"),
    CUSTOMERS[2].id: Decimal("5000000"),
    CUSTOMERS[3].id: Decimal("500000"),
    CUSTOMERS[4].id: Decimal("150000"),
}
