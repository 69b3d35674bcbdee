"""The identity checks of partner registration, as pure functions (issue 12, item 1): no database, no files but
the bank list.

- `nik_check`: the NIK of a KTP (16 digits: province, regency, district, birth date, serial).
- `npwp_check`: a tax number, 15 digits with a check digit or the 16-digit form used since 2024.
- `account_name_matches` / `name_normalised`: the bank account must be in the identity's name; case, spacing,
  punctuation, accents and titles ("Ir.", "S.E.", "PT", "Tbk") do not count, everything else must be equal.
- `banks`: the Indonesian banks a partner can be paid at (data/banks.json).
- `document_check`: the identity document is a JPG, PNG or PDF by its content, at most 1 MB.

Every check refuses with a ValidationError saying what is wrong, and refuses an over-long value or a NUL before
doing anything else. python-stdnum has NIK and NPWP modules too; Relasi does not use them: their province table
is the statistical one of before 2012 (no 65, 92, 93, 95, 96), and they accept day 81 (as the 1st) and a
regency, district or serial of zeros (tests/partners/test_identity.py shows the cases side by side).
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.core.formatting import format_count
from relasi.core.inputs import text_problem
from relasi.customers.normalize import normalize_phone

# An identity number is 16 digits; with separators people type it is still far under this. A longer value is
# refused before it is looked at.
IDENTITY_MAX_TEXT = 64
# The longest name the partner's columns hold (Partner.full_name, company_name, bank_account_name): with titles
# a person's name passes 64 characters ("Prof. Dr. Ir. H. Muhammad …, S.E., M.M., M.B.A.").
NAME_MAX_TEXT = 150
# What file systems allow for a file name.
DOCUMENT_NAME_MAX_TEXT = 255
DOCUMENT_MAX_BYTES = 1024 * 1024

# The provinces by their Kemendagri code, the first two digits of a NIK: Kepmendagri No. 100.1.1-6117 Tahun 2022
# (the 38 provinces, after Papua was divided in 2022), as kept by github.com/cahyadsn/wilayah. A NIK uses these
# codes, not the BPS statistical ones: in BPS codes Papua was 94, in Kemendagri codes it is 91 (python-stdnum
# 2.2 has the BPS codes: 91 Papua Barat, 94 Papua, and neither 65 nor 92, 93, 95, 96).
PROVINCES: dict[str, str] = {
    "11": "Aceh",
    "12": "Sumatera Utara",
    "13": "Sumatera Barat",
    "14": "Riau",
    "15": "Jambi",
    "16": "Sumatera Selatan",
    "17": "Bengkulu",
    "18": "Lampung",
    "19": "Kepulauan Bangka Belitung",
    "21": "Kepulauan Riau",
    "31": "DKI Jakarta",
    "32": "Jawa Barat",
    "33": "Jawa Tengah",
    "34": "Daerah Istimewa Yogyakarta",
    "35": "Jawa Timur",
    "36": "Banten",
    "51": "Bali",
    "52": "Nusa Tenggara Barat",
    "53": "Nusa Tenggara Timur",
    "61": "Kalimantan Barat",
    "62": "Kalimantan Tengah",
    "63": "Kalimantan Selatan",
    "64": "Kalimantan Timur",
    "65": "Kalimantan Utara",  # since 2012
    "71": "Sulawesi Utara",
    "72": "Sulawesi Tengah",
    "73": "Sulawesi Selatan",
    "74": "Sulawesi Tenggara",
    "75": "Gorontalo",
    "76": "Sulawesi Barat",
    "81": "Maluku",
    "82": "Maluku Utara",
    "91": "Papua",
    "92": "Papua Barat",
    "93": "Papua Selatan",  # since 2022
    "94": "Papua Tengah",  # since 2022
    "95": "Papua Pegunungan",  # since 2022
    "96": "Papua Barat Daya",  # since 2022
}

# Titles written before or after a name, removed before two names are compared. Each is matched on its words
# with or without the dots and spaces ("S.Kom.", "S. Kom", "SKOM"), only at the start (before) or the end (after)
# of a name, and never so that no word of the name remains: in the middle of a name "H" or "Ir" is a name.
TITLES_BEFORE: tuple[str, ...] = (
    # academic, professional and religious
    "Prof.",
    "Dr.",
    "Drs.",
    "Dra.",
    "Ir.",
    "H.",
    "Hj.",
    "K.H.",
    # courtesy
    "Tn.",
    "Ny.",
    "Nn.",
    "Sdr.",
    "Sdri.",
    "Bpk.",
    # companies: a bank writes "PT MAJU JAYA", a list "Maju Jaya, PT"
    "P.T.",
    "C.V.",
    "U.D.",
    "P.D.",
    "Fa.",
)
TITLES_AFTER: tuple[str, ...] = (
    # bachelor's and diploma degrees
    "S.E.",
    "S.H.",
    "S.T.",
    "S.Kom.",
    "S.I.Kom.",
    "S.Pd.",
    "S.Psi.",
    "S.Sos.",
    "S.Ked.",
    "S.Farm.",
    "S.Ak.",
    "S.Si.",
    "S.P.",
    "S.S.",
    "S.Ag.",
    "S.Hum.",
    "S.Kep.",
    "S.IP.",
    "S.Ars.",
    "S.Tr.",
    "A.Md.",
    "Lc.",
    "B.Sc.",
    "B.A.",
    # master's and doctor's degrees
    "M.M.",
    "M.B.A.",
    "M.Si.",
    "M.Kom.",
    "M.H.",
    "M.T.",
    "M.Pd.",
    "M.Sc.",
    "M.A.",
    "M.Eng.",
    "M.Kes.",
    "M.Ak.",
    "M.Hum.",
    "M.Ag.",
    "M.Kn.",
    "Ph.D.",
    # companies
    "Tbk",
    "Persero",
    "P.T.",
    "C.V.",
)

# The document kinds, their names in messages and the file extensions that say them.
DOCUMENT_MAGIC: dict[str, bytes] = {
    "jpeg": b"\xff\xd8\xff",
    "png": b"\x89PNG\r\n\x1a\n",
    "pdf": b"%PDF-",
}
DOCUMENT_EXTENSIONS: dict[str, str] = {
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "jpe": "jpeg",
    "jfif": "jpeg",  # what Windows names many downloaded JPEGs
    "png": "png",
    "pdf": "pdf",
}

# The banks with their 3-digit transfer codes (the sandi kliring every ATM and transfer form asks for), checked
# against several published lists; JSON so support can add a bank without a code change.
BANKS_FILE = Path(__file__).parent / "data" / "banks.json"
ACCOUNT_NUMBER_DIGITS = (5, 20)

_SEPARATORS = re.compile(r"[\s.\-]")
_DIGITS = re.compile(r"[0-9]+")
# A word of a name: letters and digits of any script (the underscore is punctuation here).
_WORD = re.compile(r"[^\W_]+")


# --- Bounds -------------------------------------------------------------------------------------------------


def _bounded(value: str, limit: int, too_long: str, **params: str) -> str:
    """The value when it is at most `limit` characters and storable; ValidationError before any other work.

    `too_long` is the message, with %(limit)d and `params`.
    """
    if len(value) > limit:
        raise ValidationError(too_long, code="too_long", params={"limit": limit, **params})
    problem = text_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_character")
    return value


def _compact_digits(value: str, *, what: str) -> str:
    """The digits of an identity number written with spaces, dots or dashes; ValidationError for anything else.

    `what` is "NIK" or "NPWP": the same in both languages.
    """
    too_long = _("The %(what)s may be at most %(limit)d characters long.")
    digits = _SEPARATORS.sub("", _bounded(value, IDENTITY_MAX_TEXT, too_long, what=what))
    # str.isdigit would take Arabic-Indic or full-width digits too; an identity number is written in 0-9.
    if not _DIGITS.fullmatch(digits):
        raise ValidationError(
            _("Write the %(what)s in digits 0 to 9; only spaces, dots and dashes may separate them."),
            code="digits",
            params={"what": what},
        )
    return digits


# --- NIK ----------------------------------------------------------------------------------------------------


def nik_check(value: str) -> str:
    """The 16 digits of a NIK, or ValidationError saying which part is wrong.

    PPRRDD DDMMYY SSSS: province (a code of PROVINCES), regency or city and district (never 00), the birth date
    (40 added to the day for women; a real date, never in the future) and a serial number (never 0000).
    """
    nik = _compact_digits(value, what="NIK")
    if len(nik) != 16:
        raise ValidationError(
            _("A NIK has 16 digits, not %(count)d."), code="nik_length", params={"count": len(nik)}
        )
    if nik[:2] not in PROVINCES:
        raise ValidationError(
            _(
                "A NIK starts with the code of a province of Indonesia (11 Aceh to 96 Papua Barat Daya); "
                "%(code)s is none."
            ),
            code="nik_province",
            params={"code": nik[:2]},
        )
    if nik[2:4] == "00":
        raise ValidationError(
            _("Digits 3 and 4 of a NIK are the regency or city, never 00."), code="nik_regency"
        )
    if nik[4:6] == "00":
        raise ValidationError(
            _("Digits 5 and 6 of a NIK are the district (kecamatan), never 00."), code="nik_district"
        )
    nik_birth_date(nik)
    if nik[12:] == "0000":
        raise ValidationError(
            _("The last 4 digits of a NIK are a serial number, never 0000."), code="nik_serial"
        )
    return nik


def nik_birth_date(nik: str, *, today: date | None = None) -> date:
    """The birth date written in digits 7 to 12 of a 16-digit NIK, or ValidationError when it is not a date.

    The year has two digits: it is 20YY when that date has come (by `today`, Jakarta's date by default), else
    19YY, so a birth date is never in the future. A NIK holds no age limit: it is given at birth.
    """
    today = today or timezone.localdate()
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    # Women's days are 41 to 71; 32 to 40 and 72 up are no one's (python-stdnum takes the day modulo 40, and so
    # reads 81 as the 1st).
    if 41 <= day <= 71:
        day -= 40
    for century in (2000, 1900):
        try:
            born = date(century + year, month, day)
        except ValueError:
            continue
        if born <= today:
            return born
    raise ValidationError(
        _(
            "Digits 7 to 12 of a NIK are the birth date as DDMMYY (40 added to the day for women), and "
            "%(digits)s is not a date."
        ),
        code="nik_birth_date",
        params={"digits": nik[6:12]},
    )


# --- NPWP ---------------------------------------------------------------------------------------------------


def npwp_check(value: str) -> str:
    """A tax number (NPWP) in its 16-digit form, or ValidationError.

    Accepted: the 15 digits used until 2024 ("01.234.567.8-901.000"), whose 9th digit is the Luhn check digit of
    the 8 before it; the 16-digit form, which is "0" and those 15 digits for companies (checked the same way)
    or a person's NIK (checked as a NIK). The 15-digit number comes back with its 0 in front, so the two
    writings of one company's number are one value (duplicate checks, the identity_number column).
    """
    digits = _compact_digits(value, what="NPWP")
    if len(digits) == 16 and not digits.startswith("0"):
        return _npwp_of_a_person(digits)
    if len(digits) == 15:
        digits = "0" + digits
    if len(digits) != 16:
        raise ValidationError(
            _("An NPWP has 15 digits, or 16 in the form used since 2024, not %(count)d."),
            code="npwp_length",
            params={"count": len(digits)},
        )
    first, written = digits[1:9], digits[9]
    expected = luhn_check_digit(first)
    if written != expected:
        raise ValidationError(
            _(
                "The check digit of this NPWP is wrong: after %(first)s comes %(expected)s, not %(written)s. "
                "Check the number for a typo."
            ),
            code="npwp_check_digit",
            params={"first": first, "expected": expected, "written": written},
        )
    return digits


def _npwp_of_a_person(digits: str) -> str:
    """Since 2024 a person's NPWP is their NIK; a NIK's error says so."""
    try:
        return nik_check(digits)
    except ValidationError as error:
        raise ValidationError(
            _("A 16-digit NPWP that does not start with 0 is a NIK, and this one is not valid: %(reason)s"),
            code="npwp_nik",
            params={"reason": " ".join(error.messages)},
        ) from None


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit to write after `digits` (the NPWP's 9th digit, after the first 8)."""
    total = 0
    # From the right, every other digit is doubled starting with the last one: the check digit will follow it.
    for position, digit in enumerate(int(character) for character in reversed(digits)):
        doubled = digit * 2 if position % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return str(-total % 10)


# --- Names --------------------------------------------------------------------------------------------------


def _words(value: str) -> list[str]:
    """The words of a text in lower case without accents: NFKD splits "é" into "e" and a mark, dropped."""
    # NFKD before casefold too: "𝑨" (mathematical bold) has no lower case until it is "A".
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", value).casefold())
    plain = "".join(character for character in decomposed if not unicodedata.combining(character))
    return _WORD.findall(plain)


def _title_forms(titles: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Each title as its words ("s", "kom") and as one word ("skom"), longest first so "S.I.Kom." wins over a
    shorter title it ends with."""
    forms = set()
    for title in titles:
        words = tuple(_words(title))
        forms.update({words, ("".join(words),)})
    return tuple(sorted(forms, key=len, reverse=True))


_BEFORE_FORMS = _title_forms(TITLES_BEFORE)
_AFTER_FORMS = _title_forms(TITLES_AFTER)


def _strip_title(words: list[str], *, at_start: bool) -> list[str] | None:
    """The words without one title at the start (or end), or None when there is none to take away."""
    for form in _BEFORE_FORMS if at_start else _AFTER_FORMS:
        size = len(form)
        # A title never takes the last word: "Dr." alone stays a name.
        if len(words) > size and tuple(words[:size] if at_start else words[-size:]) == form:
            return words[size:] if at_start else words[:-size]
    return None


def name_normalised(value: str) -> str:
    """A name as compared: lower case, no accents, no punctuation, single spaces, titles taken away.

    "Ir. Budi Santoso, S.E." → "budi santoso"; "PT Maju Jaya Tbk" → "maju jaya". ValidationError for more than
    NAME_MAX_TEXT characters or a NUL.
    """
    words = _words(_bounded(value, NAME_MAX_TEXT, _("The name may be at most %(limit)d characters long.")))
    for at_start in (True, False):
        while (stripped := _strip_title(words, at_start=at_start)) is not None:
            words = stripped
    return " ".join(words)


def account_name_matches(account_name: str, identity_name: str) -> bool:
    """Whether a bank account is in the identity's name: the two names equal once normalised (name_normalised)
    and without spaces ("Ma'ruf" is "MARUF"). No fuzzy matching: "Budi Santosa" is not "Budi Santoso".

    False when either name is empty or refused (too long, a NUL): nothing shows the account is theirs.
    """
    try:
        account, identity = name_normalised(account_name), name_normalised(identity_name)
    except ValidationError:
        return False
    return bool(account) and account.replace(" ", "") == identity.replace(" ", "")


# --- Banks --------------------------------------------------------------------------------------------------


@cache
def _bank_table() -> tuple[tuple[str, str], ...]:
    data = json.loads(BANKS_FILE.read_text(encoding="utf-8"))
    return tuple((bank["code"], bank["name"]) for bank in data)


def banks() -> list[tuple[str, str]]:
    """(code, name) of the Indonesian banks a partner can be paid at, as choices; the code is the bank's 3-digit
    transfer (clearing) code. Read once per process; a new list each call, so a caller may change its copy."""
    return list(_bank_table())


# --- Documents ----------------------------------------------------------------------------------------------


def _kind_names() -> dict[str, str]:
    # In a function so the names are translated into the language active when the message is made.
    return {"jpeg": _("a JPG image"), "png": _("a PNG image"), "pdf": _("a PDF document")}


def document_kind(head: bytes) -> str | None:
    """The kind of a file by its first bytes (its magic number): "jpeg", "png", "pdf", or None."""
    return next((kind for kind, magic in DOCUMENT_MAGIC.items() if head.startswith(magic)), None)


def _extension(name: str) -> str:
    """The extension of a file name in lower case, "" when it has none; a browser's path ("C:\\fakepath\\")
    is not part of the name."""
    base = re.split(r"[\\/]", name.strip())[-1]
    stem, dot, extension = base.rpartition(".")
    return extension.lower() if dot and stem else ""


def _size_problem(name: str, size: int) -> ValidationError | None:
    if size == 0:
        return ValidationError(_("“%(name)s” is empty."), code="document_empty", params={"name": name})
    if size > DOCUMENT_MAX_BYTES:
        return ValidationError(
            _("“%(name)s” is %(size)s bytes; a document may be at most 1 MB (%(limit)s bytes)."),
            code="document_too_large",
            params={"name": name, "size": format_count(size), "limit": format_count(DOCUMENT_MAX_BYTES)},
        )
    return None


def _content_problem(name: str, kind: str | None) -> ValidationError | None:
    if kind is None:
        return ValidationError(
            _(
                "“%(name)s” is not a JPG, PNG or PDF file: its content is none of them, whatever its name says."
            ),
            code="document_kind",
            params={"name": name},
        )
    extension = _extension(name)
    if extension and DOCUMENT_EXTENSIONS.get(extension) != kind:
        return ValidationError(
            _(
                "“%(name)s” is named .%(extension)s but its content is %(kind)s: name it .%(expected)s or "
                "upload the right file."
            ),
            code="document_extension",
            params={
                "name": name,
                "extension": extension,
                "kind": _kind_names()[kind],
                "expected": "jpg" if kind == "jpeg" else kind,
            },
        )
    return None


def document_check(*, name: str, head: bytes, size: int) -> str:
    """The kind of an identity document ("jpeg", "png" or "pdf") by its content, or ValidationError with every
    problem: empty or over DOCUMENT_MAX_BYTES (exactly 1 MB is allowed), content that is none of the three
    whatever the name says, or a name whose extension says another kind ("a .jpg that is a PDF": a reviewer's
    computer would open it with the wrong program). A name without an extension is judged by content alone.

    `head` is the first bytes of the file (8 are enough); `size` its length in bytes.
    """
    if size < 0:
        raise ValueError("size is a number of bytes, never negative")
    _bounded(name, DOCUMENT_NAME_MAX_TEXT, _("The file name may be at most %(limit)d characters long."))
    kind = document_kind(head)
    problems = [problem for problem in (_size_problem(name, size), _content_problem(name, kind)) if problem]
    if problems:
        raise ValidationError(problems)
    assert kind is not None  # no content problem means a kind
    return kind


def indonesian_phone_check(value: str) -> str:
    """An Indonesian phone number in E.164 (+62…), or ValidationError: a partner is paid and reached in Indonesia."""
    try:
        phone = normalize_phone(value[:30])
    except ValidationError:
        phone = ""
    if not phone.startswith("+62"):
        raise ValidationError(
            _("Enter an Indonesian phone number, such as 0812 3456 7890 or +62 812 3456 7890.")
        )
    return phone


def account_number_check(value: str) -> str:
    """A bank account number, spaces removed: 5 to 20 digits."""
    number = "".join(value[:40].split())
    low, high = ACCOUNT_NUMBER_DIGITS
    if not (number.isdigit() and number.isascii() and low <= len(number) <= high):
        raise ValidationError(
            _("Enter the account number: %(low)d to %(high)d digits.") % {"low": low, "high": high}
        )
    return number
