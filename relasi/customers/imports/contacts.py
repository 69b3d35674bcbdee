"""The contact exports people already have, and how their columns fill a customer.

Headers are compared in their `header_key` form (lower case, words only): "E-mail 1 - Value" is
"e mail 1 value". Each field lists the headers that fill it, best first: in an Outlook export both "Home
Phone" and "Mobile Phone" are phones, and the mobile number is the one a customer is reached on.

Known exports (their real headers; only the ones a customer uses are listed):
- Google Contacts (contacts.google.com › Export › Google CSV): "First Name", "Middle Name", "Last Name",
  "Organization Name", "Organization Title", "E-mail 1 - Value", "Phone 1 - Value", "Address 1 - City",
  "Address 1 - Region", "Address 1 - Postal Code". A cell of several values joins them with " ::: ".
  The older Google CSV: "Given Name", "Additional Name", "Family Name", "Organization 1 - Name", ...
- Outlook (People › Export contacts): "First Name", "Middle Name", "Last Name", "E-mail Address",
  "Mobile Phone", "Business Phone", "Home Phone", "Company", "Job Title", "Business City", "Business State",
  "Business Postal Code", "Home City", ...
- HubSpot (Contacts › Export): "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
  "Company Name", "Job Title", "City", "State/Region", "Postal Code".
- WhatsApp Business has no export of its own; the customer lists people make from it (and tools that read
  its labels) hold "Name" and "Phone" (or "Nama" and "Nomor"). That assumption is documented.
- Excel sheets people type, in English and Indonesian: "Nama Depan", "Nama Belakang", "Perusahaan", ...
"""

from __future__ import annotations

import re

# A cell of several values, as Google Contacts writes it: "+62 811-1111-111 ::: 0812 2222 2222".
MULTI_VALUE_SEPARATOR = re.compile(r"\s*:::\s*")

GOOGLE = "google"
OUTLOOK = "outlook"
HUBSPOT = "hubspot"
WHATSAPP = "whatsapp"
SHEET = "sheet"


def header_key(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def cell_values(cell: str) -> list[str]:
    """The values of a cell: one, or several joined with " ::: "; empty ones left out."""
    if ":::" not in cell:
        value = cell.strip()
        return [value] if value else []
    return [part for part in (piece.strip() for piece in MULTI_VALUE_SEPARATOR.split(cell)) if part]


# The parts of a person's name, in the order they are joined.
NAME_PARTS: dict[str, int] = {
    "first name": 1,
    "given name": 1,
    "firstname": 1,
    "nama depan": 1,
    "middle name": 2,
    "additional name": 2,
    "nama tengah": 2,
    "last name": 3,
    "family name": 3,
    "surname": 3,
    "lastname": 3,
    "nama belakang": 3,
}

# The organisation's name: the customer's name when a row has no person's name.
ORGANISATION = (
    "organization name",
    "organization 1 name",
    "company",
    "company name",
    "organisation",
    "organization",
    "perusahaan",
    "nama perusahaan",
    "instansi",
    "nama usaha",
    "nama toko",
)

# Headers of the exports above, best first, for the built-in fields (the plain synonyms of
# relasi.customers.imports.mapping come after these).
EXPORT_HEADERS: dict[str, tuple[str, ...]] = {
    "phone": (
        "mobile phone",
        "mobile phone number",
        "phone 1 value",
        "phone number",
        "primary phone",
        "business phone",
        "home phone",
        "other phone",
        "nomor",
        "no whatsapp",
    ),
    "email": ("e mail 1 value", "e mail address", "email address", "e mail", "email"),
    "job_title": ("organization title", "organization 1 title", "job title", "jabatan", "title in company"),
    "city": ("address 1 city", "business city", "home city", "other city", "city", "kota"),
    "province": (
        "address 1 region",
        "business state",
        "home state",
        "other state",
        "state region",
        "state",
        "region",
        "provinsi",
    ),
    "zip_code": (
        "address 1 postal code",
        "business postal code",
        "home postal code",
        "other postal code",
        "postal code",
        "zip",
        "kode pos",
    ),
}


def export_kind(keys: set[str]) -> str:
    """Which export a file of these header keys is ("" when none is recognised)."""
    if "phone 1 value" in keys or "e mail 1 value" in keys or "given name" in keys:
        return GOOGLE
    if "e mail address" in keys and keys & {"mobile phone", "business phone", "home phone"}:
        return OUTLOOK
    if "state region" in keys or "record id" in keys or "lifecycle stage" in keys:
        return HUBSPOT
    if keys <= {
        "name",
        "phone",
        "phone number",
        "nama",
        "nomor",
        "no whatsapp",
        "whatsapp",
        "label",
        "labels",
    } and (keys & {"name", "nama"}):
        return WHATSAPP
    if keys & set(NAME_PARTS) or keys & set(ORGANISATION):
        return SHEET
    return ""
