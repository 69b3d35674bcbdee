"""Realistic sample customers for the demo data and the benchmark: Indonesian names, phones, places."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from relasi.customers.models import Channel

FIRST_NAMES = [
    "Budi",
    "Siti",
    "Agus",
    "Dewi",
    "Andi",
    "Rina",
    "Joko",
    "Sri",
    "Ahmad",
    "Nur",
    "Putu",
    "Made",
    "Wayan",
    "Ketut",
    "Rizky",
    "Intan",
    "Fajar",
    "Ayu",
    "Hendra",
    "Lestari",
    "Yusuf",
    "Fitri",
    "Bayu",
    "Kartika",
    "Dimas",
    "Maya",
    "Teguh",
    "Ratna",
    "Arif",
    "Wulan",
    "Eko",
    "Indah",
    "Gilang",
    "Nadia",
    "Rudi",
    "Citra",
    "Hadi",
    "Sari",
    "Ilham",
    "Melati",
    "Taufik",
    "Anisa",
    "Wahyu",
    "Dian",
    "Reza",
    "Novi",
    "Galih",
    "Yuni",
]
LAST_NAMES = [
    "Santoso",
    "Wijaya",
    "Pratama",
    "Saputra",
    "Hidayat",
    "Kusuma",
    "Nugroho",
    "Siregar",
    "Harahap",
    "Lubis",
    "Simanjuntak",
    "Wibowo",
    "Setiawan",
    "Gunawan",
    "Susanto",
    "Halim",
    "Tanjung",
    "Nasution",
    "Purnomo",
    "Rahman",
    "Hakim",
    "Utami",
    "Permata",
    "Suryadi",
    "Kurniawan",
    "Firmansyah",
    "Maharani",
    "Anggraini",
    "Sembiring",
    "Ginting",
    "Pangaribuan",
    "Manurung",
    "Putri",
    "Handoko",
    "Salim",
    "Tan",
    "Lim",
    "Sitompul",
]
PLACES = [
    ("DKI Jakarta", "Jakarta Selatan", "Kebayoran Baru", "Senayan", "12190"),
    ("DKI Jakarta", "Jakarta Barat", "Grogol Petamburan", "Tomang", "11440"),
    ("Jawa Barat", "Kota Bandung", "Coblong", "Dago", "40135"),
    ("Jawa Timur", "Kota Surabaya", "Gubeng", "Airlangga", "60286"),
    ("Jawa Tengah", "Kota Semarang", "Tembalang", "Tembalang", "50275"),
    ("DI Yogyakarta", "Kota Yogyakarta", "Gondokusuman", "Terban", "55223"),
    ("Bali", "Kota Denpasar", "Denpasar Selatan", "Sanur", "80228"),
    ("Sumatera Utara", "Kota Medan", "Medan Baru", "Petisah Hulu", "20151"),
    ("Sulawesi Selatan", "Kota Makassar", "Panakkukang", "Pandang", "90231"),
    ("Kalimantan Timur", "Kota Balikpapan", "Balikpapan Kota", "Klandasan Ilir", "76113"),
]
JOB_TITLES = [
    "Owner",
    "Marketing Manager",
    "Purchasing Staff",
    "Admin",
    "Finance",
    "Student",
    "Teacher",
    "Engineer",
    "",
]
STATUSES = ["Lead", "Prospect", "Customer", "Inactive"]
MOBILE_PREFIXES = [
    "811",
    "812",
    "813",
    "821",
    "822",
    "852",
    "853",
    "856",
    "857",
    "858",
    "877",
    "878",
    "881",
    "895",
    "896",
]
CHANNEL_WEIGHTS = [
    (Channel.WHATSAPP, 45),
    (Channel.INSTAGRAM, 15),
    (Channel.FACEBOOK, 8),
    (Channel.TELEGRAM, 5),
    (Channel.LINE, 3),
    (Channel.LIVE_CHAT, 10),
    (Channel.EMAIL, 8),
    (Channel.TIKTOK, 4),
    (Channel.OTHER, 2),
]


@dataclass(frozen=True)
class SampleCustomer:
    full_name: str
    source: str
    phone: str
    email: str
    status: str
    job_title: str
    province: str
    city: str
    district: str
    subdistrict: str
    zip_code: str
    updated_at: datetime
    username: str

    def customer_fields(self) -> dict[str, object]:
        """The Customer columns this sample fills (the username goes to a ChannelIdentity)."""
        return {
            "full_name": self.full_name,
            "source": self.source,
            "phone": self.phone,
            "phone_raw": self.phone,
            "email": self.email,
            "status": self.status,
            "job_title": self.job_title,
            "province": self.province,
            "city": self.city,
            "district": self.district,
            "subdistrict": self.subdistrict,
            "zip_code": self.zip_code,
            "created_at": self.updated_at,
            "updated_at": self.updated_at,
        }


def sample_customers(
    *, count: int, seed: int, now: datetime, days_back: int = 365
) -> Iterator[SampleCustomer]:
    """Yield `count` varied customers, deterministic for a seed; phones are unique per call."""
    generator = random.Random(seed)
    channels = [channel for channel, _weight in CHANNEL_WEIGHTS]
    weights = [weight for _channel, weight in CHANNEL_WEIGHTS]
    for number in range(count):
        first = generator.choice(FIRST_NAMES)
        last = generator.choice(LAST_NAMES)
        source = generator.choices(channels, weights)[0]
        province, city, district, subdistrict, zip_code = generator.choice(PLACES)
        # The running number keeps phones unique without a lookup.
        phone = f"+62{generator.choice(MOBILE_PREFIXES)}{number:08d}"
        has_email = generator.random() < 0.7
        email = (
            f"{first}.{last}{number}@{generator.choice(['gmail.com', 'yahoo.co.id', 'outlook.com'])}".lower()
        )
        yield SampleCustomer(
            full_name=f"{first} {last}",
            source=source,
            phone=phone if source != Channel.EMAIL or generator.random() < 0.3 else "",
            email=email if has_email or source == Channel.EMAIL else "",
            status=generator.choice(STATUSES),
            job_title=generator.choice(JOB_TITLES),
            province=province,
            city=city,
            district=district,
            subdistrict=subdistrict,
            zip_code=zip_code,
            updated_at=now - timedelta(seconds=generator.randint(0, days_back * 86400)),
            username=f"{first}{last}{number}".lower()
            if source in (Channel.INSTAGRAM, Channel.TIKTOK, Channel.TELEGRAM)
            else "",
        )
