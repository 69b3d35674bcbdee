"""Identifier values that mean "nothing": never matched to a customer, never stored as an identifier.

The list is data (`data/junk_identifiers.json`, read once per process), so support can extend it without a code
change. Values are compared after normalising: text trimmed and in lower case, phones in E.164, emails in lower
case.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import phonenumbers

JUNK_FILE = Path(__file__).resolve().parent / "data" / "junk_identifiers.json"


@dataclass(frozen=True)
class JunkList:
    values: frozenset[str]
    phone_national_patterns: tuple[re.Pattern[str], ...]
    phones: frozenset[str]
    emails: frozenset[str]
    email_domains: frozenset[str]
    email_local_parts: frozenset[str]


@cache
def junk_list() -> JunkList:
    data = json.loads(JUNK_FILE.read_text(encoding="utf-8"))
    return JunkList(
        values=frozenset(value.strip().lower() for value in data["values"]),
        phone_national_patterns=tuple(re.compile(pattern) for pattern in data["phone_national_patterns"]),
        phones=frozenset(data["phones"]),
        emails=frozenset(value.lower() for value in data["emails"]),
        email_domains=frozenset(value.lower() for value in data["email_domains"]),
        email_local_parts=frozenset(value.lower() for value in data["email_local_parts"]),
    )


def junk_text(value: str) -> bool:
    """A placeholder people or programs write when they have nothing ("0", "-", "null", "anonymous"...)."""
    return value.strip().lower() in junk_list().values


def junk_phone(e164: str) -> bool:
    """A normalised phone that is a placeholder: a listed test number, or national digits matching a listed
    pattern (all the same digit, 0812345678...)."""
    junk = junk_list()
    if junk_text(e164) or e164 in junk.phones:
        return True
    try:
        national = str(phonenumbers.parse(e164).national_number)
    except phonenumbers.NumberParseException:
        return True
    return any(pattern.match(national) for pattern in junk.phone_national_patterns)


def junk_email(email: str) -> bool:
    """A normalised email that is a placeholder: listed, at a reserved or throw-away domain, or a listed local part."""
    junk = junk_list()
    value = email.strip().lower()
    if junk_text(value) or value in junk.emails:
        return True
    local, _at, domain = value.rpartition("@")
    # A reserved domain's subdomains are reserved too (shop.example.com).
    reserved = any(domain == listed or domain.endswith("." + listed) for listed in junk.email_domains)
    return reserved or local in junk.email_local_parts
