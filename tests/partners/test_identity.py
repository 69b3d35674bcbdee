"""The identity checks of partner registration (issue 12, item 1): NIK, NPWP, the account name against the
identity name, the bank list and the identity document. Pure functions: no database.

Where python-stdnum's NIK and NPWP modules are wrong or incomplete (its province table has the BPS codes of
before 2012: no 65, 92, 93, 95, 96), the tests show its answer beside Relasi's; on ordinary numbers they agree.
"""

from __future__ import annotations

import json
import string
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.id import nik as stdnum_nik
from stdnum.id import npwp as stdnum_npwp

from relasi.partners.identity import (
    BANKS_FILE,
    DOCUMENT_MAX_BYTES,
    PROVINCES,
    TITLES_AFTER,
    TITLES_BEFORE,
    account_name_matches,
    banks,
    document_check,
    luhn_check_digit,
    name_normalised,
    nik_birth_date,
    nik_check,
    npwp_check,
)

# A man born 17 August 1945 in Jakarta Selatan (python-stdnum's own example), and a woman born that day.
NIK = "3171011708450001"
NIK_WOMAN = "3171015708450001"
# A company's NPWP in the 15-digit form and its 16-digit form since 2024 (python-stdnum's example).
NPWP_15 = "013121660091000"
NPWP_16 = "0013121660091000"
TODAY = date(2026, 5, 1)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
PDF = b"%PDF-1.7\n%\xe2\xe3"


def refusal(check, *args, **kwargs) -> list[str]:
    """The messages of the ValidationError `check` raises."""
    with pytest.raises(ValidationError) as caught:
        check(*args, **kwargs)
    return caught.value.messages


def nik_born(born: date, *, woman: bool = False, place: str = "317101", serial: str = "0001") -> str:
    day = born.day + 40 if woman else born.day
    return f"{place}{day:02d}{born:%m%y}{serial}"


# --- NIK ----------------------------------------------------------------------------------------------------


def test_a_nik_written_with_spaces_dots_and_dashes_is_its_16_digits() -> None:
    # given a NIK as people write it
    # when it is checked
    # then the 16 digits come back
    assert nik_check(" 3171-01.17 0845 0001 ") == NIK


def test_a_womans_nik_has_40_added_to_the_day() -> None:
    # given the NIK of a woman born on 17 August 1945
    # when it is checked and its birth date read
    # then it is valid and the date is the 17th
    assert nik_check(NIK_WOMAN) == NIK_WOMAN
    assert nik_birth_date(NIK_WOMAN, today=TODAY) == date(1945, 8, 17)


def test_the_provinces_are_the_38_of_kemendagri_2022() -> None:
    # given the province table
    # then it has the 38 provinces, with Kalimantan Utara and the Papua provinces of 2022
    assert len(PROVINCES) == 38
    assert {code: PROVINCES[code] for code in ("65", "91", "92", "93", "94", "95", "96")} == {
        "65": "Kalimantan Utara",
        "91": "Papua",
        "92": "Papua Barat",
        "93": "Papua Selatan",
        "94": "Papua Tengah",
        "95": "Papua Pegunungan",
        "96": "Papua Barat Daya",
    }


@pytest.mark.parametrize("province", sorted(PROVINCES))
def test_a_nik_of_every_province_is_accepted(province: str) -> None:
    # given a NIK issued in the province
    nik = f"{province}0101" + "170845" + "0001"
    # when it is checked
    # then it is accepted as it is
    assert nik_check(nik) == nik


@pytest.mark.parametrize("province", ["00", "10", "20", "37", "54", "66", "77", "83", "90", "97", "99"])
def test_a_nik_of_no_province_is_refused(province: str) -> None:
    # given a NIK whose first two digits are no province's code
    # when it is checked
    # then the message names the code
    assert refusal(nik_check, f"{province}7101170845" + "0001") == [
        f"A NIK starts with the code of a province of Indonesia (11 Aceh to 96 Papua Barat Daya); {province} is none."
    ]


@pytest.mark.parametrize(
    ("digits", "why"),
    [
        ("3102900001", "31 February"),
        ("0001900001", "day 00"),
        ("3201900001", "day 32"),
        ("4001900001", "day 40: 00 for a woman"),
        ("7201900001", "day 72: 32 for a woman"),
        ("8101900001", "day 81: python-stdnum reads it as the 1st"),
        ("0100900001", "month 00"),
        ("0113900001", "month 13"),
        ("2902010001", "29 February 2001 and 1901"),
        ("6902010001", "29 February 2001 for a woman"),
    ],
)
def test_a_nik_whose_birth_date_is_no_date_is_refused(digits: str, why: str) -> None:
    # given a NIK whose digits 7 to 12 are no date
    nik = "317101" + digits
    # when it is checked
    # then the message says which digits are not a date
    assert refusal(nik_check, nik) == [
        "Digits 7 to 12 of a NIK are the birth date as DDMMYY (40 added to the day for women), and "
        f"{nik[6:12]} is not a date."
    ], why


def test_29_february_2000_is_a_birth_date() -> None:
    # given a NIK of someone born on 29 February 2000 (1900 was no leap year)
    nik = "3171012902000001"
    # when it is checked and the birth date read
    # then it is valid and 2000 is the year
    assert nik_check(nik) == nik
    assert nik_birth_date(nik, today=TODAY) == date(2000, 2, 29)


@pytest.mark.parametrize(
    ("written", "born"),
    [
        ("010526", date(2026, 5, 1)),  # today: 20YY has come
        ("020526", date(1926, 5, 2)),  # tomorrow in 2026: so 1926
        ("311225", date(2025, 12, 31)),
        ("010127", date(1927, 1, 1)),
        ("311299", date(1999, 12, 31)),
        ("010100", date(2000, 1, 1)),
    ],
)
def test_the_century_is_20yy_when_that_day_has_come_else_19yy(written: str, born: date) -> None:
    # given a NIK whose birth date is written DDMMYY, on 1 May 2026
    nik = "317101" + written + "0001"
    # when the birth date is read
    # then its year is 20YY unless that is in the future
    assert nik_birth_date(nik, today=TODAY) == born


@given(born=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)), woman=st.booleans())
def test_a_birth_date_is_never_in_the_future(born: date, woman: bool) -> None:
    # given any NIK with a real date
    # when its birth date is read on 1 May 2026
    read = nik_birth_date(nik_born(born, woman=woman), today=TODAY)
    # then it is not after that day, and it is the date written, a century apart at most
    assert read <= TODAY
    assert (read.month, read.day, read.year % 100) == (born.month, born.day, born.year % 100)


@given(
    born=st.dates(min_value=TODAY.replace(year=1926) + timedelta(days=1), max_value=TODAY),
    woman=st.booleans(),
)
def test_the_birth_date_of_anyone_under_100_is_read_exactly(born: date, woman: bool) -> None:
    # given the NIK of someone born in the last hundred years
    nik = nik_born(born, woman=woman)
    # when its birth date is read
    # then it is the day they were born
    assert nik_birth_date(nik, today=TODAY) == born


@pytest.mark.parametrize(("nik", "count"), [("317101170845000", 15), ("31710117084500011", 17), ("", 0)])
def test_a_nik_of_another_length_is_refused(nik: str, count: int) -> None:
    # given a NIK with a digit too few or too many
    # when it is checked
    # then the message says 16 digits
    if not nik:
        assert refusal(nik_check, nik) == [
            "Write the NIK in digits 0 to 9; only spaces, dots and dashes may separate them."
        ]
    else:
        assert refusal(nik_check, nik) == [f"A NIK has 16 digits, not {count}."]


@pytest.mark.parametrize(
    "nik", ["31710117084500O1", "3171/0117/0845/0001", "３１７１０１１７０８４５０００１"]
)
def test_a_nik_with_other_characters_than_digits_is_refused(nik: str) -> None:
    # given a NIK with a letter O, slashes, or full-width digits
    # when it is checked
    # then the message says digits 0 to 9
    assert refusal(nik_check, nik) == [
        "Write the NIK in digits 0 to 9; only spaces, dots and dashes may separate them."
    ]


# --- NPWP ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written", ["01.312.166.0-091.000", "013121660091000", "0013121660091000", "0 01 312 166 0 091 000"]
)
def test_an_npwp_in_either_form_is_its_16_digit_form(written: str) -> None:
    # given a company's NPWP written the old way (15 digits) or the new way (16, a 0 in front)
    # when it is checked
    # then the 16-digit form comes back: one value for both writings
    assert npwp_check(written) == NPWP_16


def test_another_valid_15_digit_npwp() -> None:
    # given python-stdnum's second example
    # when it is checked
    # then it is accepted in its 16-digit form
    assert npwp_check("016090524017000") == "0016090524017000"


@pytest.mark.parametrize("written", ["01.312.166.1-091.000", "0013121661091000"])
def test_an_npwp_with_a_wrong_check_digit_is_refused(written: str) -> None:
    # given the NPWP with its 9th digit (the check digit) changed from 0 to 1, in either form
    # when it is checked
    # then the message says which digit is expected
    assert refusal(npwp_check, written) == [
        "The check digit of this NPWP is wrong: after 01312166 comes 0, not 1. Check the number for a typo."
    ]


def test_a_swap_of_two_digits_is_caught_by_the_check_digit() -> None:
    # given the NPWP with its 2nd and 3rd digits swapped
    # when it is checked
    # then the check digit refuses it
    assert refusal(npwp_check, "031121660091000") == [
        "The check digit of this NPWP is wrong: after 03112166 comes 8, not 0. Check the number for a typo."
    ]


def test_a_16_digit_npwp_not_starting_with_0_is_a_nik() -> None:
    # given a person's 16-digit NPWP: their NIK
    # when it is checked
    # then it comes back as it is
    assert npwp_check("3171-0117-0845-0001") == NIK


def test_a_16_digit_npwp_that_is_no_nik_is_refused_with_the_niks_reason() -> None:
    # given 16 digits not starting with 0 whose birth date is 31 February
    # when checked as an NPWP
    # then the message says it is read as a NIK and why it is not one
    assert refusal(npwp_check, "3171013102900001") == [
        "A 16-digit NPWP that does not start with 0 is a NIK, and this one is not valid: Digits 7 to 12 of a NIK are "
        "the birth date as DDMMYY (40 added to the day for women), and 310290 is not a date."
    ]


@pytest.mark.parametrize(("npwp", "count"), [("01312166009100", 14), ("00131216600910001", 17), ("0", 1)])
def test_an_npwp_of_another_length_is_refused(npwp: str, count: int) -> None:
    # given an NPWP with a digit too few or too many
    # when it is checked
    # then the message says 15 or 16 digits
    assert refusal(npwp_check, npwp) == [
        f"An NPWP has 15 digits, or 16 in the form used since 2024, not {count}."
    ]


def test_an_npwp_with_letters_is_refused() -> None:
    # given an NPWP with a letter
    # when it is checked
    # then the message says digits
    assert refusal(npwp_check, "01.312.166.0-O91.000") == [
        "Write the NPWP in digits 0 to 9; only spaces, dots and dashes may separate them."
    ]


# --- Relasi beside python-stdnum ----------------------------------------------------------------------------


@pytest.mark.parametrize("province", ["65", "92", "93", "95", "96"])
def test_stdnum_refuses_the_niks_of_new_provinces_relasi_accepts_them(province: str) -> None:
    # given a NIK of Kalimantan Utara (2012) or a Papua province of 2022
    nik = f"{province}0101" + "170845" + "0001"
    # when python-stdnum and Relasi check it
    # then python-stdnum refuses it (its table stops before 2012) and Relasi accepts it
    assert (stdnum_nik.is_valid(nik), nik_check(nik)) == (False, nik)


@pytest.mark.parametrize("province", ["91", "94"])
def test_stdnum_and_relasi_both_accept_91_and_94_for_different_provinces(province: str) -> None:
    # given a NIK starting 91 or 94
    nik = f"{province}0101" + "170845" + "0001"
    # when both check it
    # then both accept it, though python-stdnum reads 91 as Papua Barat and 94 as Papua (BPS codes)
    # and Relasi as Papua and Papua Tengah (Kemendagri codes, what a NIK uses)
    assert (stdnum_nik.is_valid(nik), nik_check(nik)) == (True, nik)
    assert PROVINCES[province] == {"91": "Papua", "94": "Papua Tengah"}[province]


def test_stdnum_reads_day_81_as_the_1st_relasi_refuses_it() -> None:
    # given a NIK whose day is 81 (neither 01-31 nor 41-71)
    nik = "3171018101900001"
    # when both check it
    # then python-stdnum (day modulo 40) accepts it and Relasi refuses it
    assert stdnum_nik.is_valid(nik) is True
    assert refusal(nik_check, nik) == [
        "Digits 7 to 12 of a NIK are the birth date as DDMMYY (40 added to the day for women), and 810190 is not "
        "a date."
    ]


def test_stdnum_puts_a_child_born_in_2005_in_1905_relasi_in_2005() -> None:
    # given the NIK of someone born on 1 May 2005
    nik = "3171010105050001"
    # when both read the birth date
    # then python-stdnum says 1905 (it tries 19YY first) and Relasi 2005
    assert (stdnum_nik.get_birth_date(nik), nik_birth_date(nik, today=TODAY)) == (
        date(1905, 5, 1),
        date(2005, 5, 1),
    )


@pytest.mark.parametrize(
    ("nik", "message"),
    [
        ("3100011708450001", "Digits 3 and 4 of a NIK are the regency or city, never 00."),
        ("3171001708450001", "Digits 5 and 6 of a NIK are the district (kecamatan), never 00."),
        ("3171011708450000", "The last 4 digits of a NIK are a serial number, never 0000."),
    ],
)
def test_stdnum_accepts_a_zero_regency_district_or_serial_relasi_refuses_it(nik: str, message: str) -> None:
    # given a NIK whose regency, district or serial is all zeros
    # when both check it
    # then python-stdnum accepts it (it looks up the province only) and Relasi refuses it
    assert stdnum_nik.is_valid(nik) is True
    assert refusal(nik_check, nik) == [message]


def test_stdnum_and_relasi_both_accept_a_regency_code_that_does_not_exist() -> None:
    # given a NIK of Jakarta with regency 99, which does not exist
    nik = "3199011708450001"
    # when both check it
    # then both accept it: neither keeps the list of regencies (new ones are made every few years)
    assert (stdnum_nik.is_valid(nik), nik_check(nik)) == (True, nik)


def test_stdnum_refuses_a_16_digit_npwp_of_a_person_from_kalimantan_utara_relasi_accepts_it() -> None:
    # given a person's 16-digit NPWP (their NIK) from Kalimantan Utara
    npwp = "6501011708450001"
    # when both check it
    # then python-stdnum refuses it through its NIK check and Relasi accepts it
    assert (stdnum_npwp.is_valid(npwp), npwp_check(npwp)) == (False, npwp)


def test_stdnum_keeps_the_15_digit_form_relasi_gives_the_16_digit_one() -> None:
    # given a company's NPWP in the 15-digit form
    # when both validate it
    # then both accept it; python-stdnum returns it as written and Relasi in the form used since 2024
    assert (stdnum_npwp.validate(NPWP_15), npwp_check(NPWP_15)) == (NPWP_15, NPWP_16)


@pytest.mark.parametrize(
    "nik", [NIK, NIK_WOMAN, "3273012902000001", "3578016512880002", "5171014101990123", "7371011203670001"]
)
def test_stdnum_and_relasi_agree_on_ordinary_niks(nik: str) -> None:
    # given ordinary NIKs of Jakarta, Bandung, Surabaya, Denpasar and Makassar
    # when both check them
    # then both accept them
    assert (stdnum_nik.is_valid(nik), nik_check(nik)) == (True, nik)


@pytest.mark.parametrize(
    "nik", ["317101170845000", "3171013102900001", "3171010113900001", "31710117084500x1"]
)
def test_stdnum_and_relasi_agree_on_ordinary_bad_niks(nik: str) -> None:
    # given NIKs with a digit missing, 31 February, month 13 or a letter
    # when both check them
    # then both refuse them
    assert stdnum_nik.is_valid(nik) is False
    with pytest.raises(ValidationError):
        nik_check(nik)


@given(
    born=st.dates(min_value=TODAY.replace(year=1926) + timedelta(days=1), max_value=TODAY),
    woman=st.booleans(),
)
def test_stdnum_and_relasi_agree_on_any_birth_date(born: date, woman: bool) -> None:
    # given a NIK of Jakarta Pusat with any real birth date of the last hundred years
    nik = nik_born(born, woman=woman)
    # when both check it
    # then both accept it
    assert (stdnum_nik.is_valid(nik), nik_check(nik)) == (True, nik)


def relasi_accepts_npwp(value: str) -> bool:
    try:
        npwp_check(value)
    except ValidationError:
        return False
    return True


@given(digits=st.text(alphabet=string.digits, min_size=15, max_size=15))
def test_stdnum_and_relasi_agree_on_every_15_digit_npwp(digits: str) -> None:
    # given any 15 digits
    # when both check them as an NPWP
    # then they agree, and in the 16-digit form too
    assert relasi_accepts_npwp(digits) == stdnum_npwp.is_valid(digits)
    assert relasi_accepts_npwp("0" + digits) == stdnum_npwp.is_valid("0" + digits)


@given(first=st.text(alphabet=string.digits, min_size=8, max_size=8))
def test_the_check_digit_is_luhns(first: str) -> None:
    # given any 8 digits
    # when Relasi computes the check digit
    # then it is python-stdnum's Luhn check digit
    assert luhn_check_digit(first) == luhn.calc_check_digit(first)


# --- Bounds on hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize(("check", "what"), [(nik_check, "NIK"), (npwp_check, "NPWP")])
def test_an_identity_number_over_64_characters_is_refused_before_any_work(check, what: str) -> None:
    # given a number padded to 65 characters, and one of ten million
    # when it is checked
    # then it is refused for its length alone
    assert refusal(check, " " * 49 + NIK) == [f"The {what} may be at most 64 characters long."]
    assert refusal(check, "1" * 10_000_000) == [f"The {what} may be at most 64 characters long."]


def test_an_identity_number_of_exactly_64_characters_is_read() -> None:
    # given a NIK padded with spaces to 64 characters
    # when it is checked
    # then it is read
    assert nik_check(" " * 48 + NIK) == NIK


@pytest.mark.parametrize("check", [nik_check, npwp_check, name_normalised])
def test_a_nul_is_refused(check) -> None:
    # given a value with a NUL character
    # when it is checked
    # then the message says so
    assert refusal(check, NIK + "\x00") == ["Remove the NUL character (\\0): it cannot be stored."]


def test_a_name_over_150_characters_is_refused_and_matches_nothing() -> None:
    # given a name of 151 characters
    name = "Budi " * 30 + "X"
    # when it is normalised or compared
    # then it is refused, and matches no name, not even itself
    assert refusal(name_normalised, name) == ["The name may be at most 150 characters long."]
    assert account_name_matches(name, name) is False


# --- Names --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("Ir. Budi Santoso, S.E.", "budi santoso"),
        ("BUDI  SANTOSO", "budi santoso"),
        ("Dr. H. Ahmad Dahlan, M.M., M.B.A.", "ahmad dahlan"),
        ("Prof. Dr. Ir. Hj. Siti Nurhaliza, S.Kom., M.Kom., Ph.D.", "siti nurhaliza"),
        ("Drs. Agus Setiawan SE MM", "agus setiawan"),
        ("Sri Rahayu, S. Pd.", "sri rahayu"),
        ("Dewi Lestari, S.I.Kom.", "dewi lestari"),
        ("José Müller", "jose muller"),
        ("Ma'ruf Amin", "ma ruf amin"),
        ("PT Maju Jaya Tbk", "maju jaya"),
        ("Maju Jaya, PT", "maju jaya"),
        ("CV. Sumber Rejeki", "sumber rejeki"),
        ("P.T. Bank Negara Indonesia (Persero) Tbk.", "bank negara indonesia"),
        ("Budi Ir Santoso", "budi ir santoso"),  # a title in the middle of a name is a name
        ("H. Hendra", "hendra"),
        ("Dr.", "dr"),  # a title never takes the last word
        ("...", ""),
    ],
)
def test_a_name_is_normalised_without_case_spacing_punctuation_accents_or_titles(
    name: str, normalised: str
) -> None:
    # given a name as a person or a bank writes it
    # when it is normalised
    # then only its words remain, in lower case
    assert name_normalised(name) == normalised


@pytest.mark.parametrize(
    ("account", "identity"),
    [
        ("BUDI  SANTOSO", "Ir. Budi Santoso, S.E."),
        ("IR BUDI SANTOSO SE", "Budi Santoso"),
        ("MARUF AMIN", "Ma'ruf Amin"),
        ("JOSE MULLER", "José Müller"),
        ("PT. MAJU JAYA", "Maju Jaya, PT"),
        ("MAJU JAYA", "PT Maju Jaya Tbk"),
    ],
)
def test_an_account_in_the_identitys_name_matches(account: str, identity: str) -> None:
    # given an account name and an identity name written differently
    # when they are compared
    # then they match
    assert account_name_matches(account, identity) is True


@pytest.mark.parametrize(
    ("account", "identity"),
    [
        ("Budi Santosa", "Budi Santoso"),  # one letter: no fuzzy matching
        ("Budi Santoso Wijaya", "Ir. Budi Santoso"),
        ("Santoso Budi", "Budi Santoso"),
        ("Maju Jaya Abadi", "PT Maju Jaya"),
        ("", ""),
        ("...", "..."),
    ],
)
def test_an_account_in_another_name_does_not_match(account: str, identity: str) -> None:
    # given an account name and an identity name of different people, or empty names
    # when they are compared
    # then they do not match
    assert account_name_matches(account, identity) is False


NAME_PARTS = [
    "Budi",
    "Santoso",
    "Siti",
    "Nurhaliza",
    "Wijaya",
    "Ahmad",
    "Dewi",
    "Putri",
    "José",
    "Müller",
    "Agus",
]
names = st.lists(st.sampled_from(NAME_PARTS), min_size=1, max_size=4).map(" ".join)
latin = st.text(alphabet=st.sampled_from(string.ascii_letters + "éüñçåÉÜ .,'-"), max_size=60)


@given(
    name=names,
    before=st.lists(st.sampled_from(TITLES_BEFORE), max_size=3),
    after=st.lists(st.sampled_from(TITLES_AFTER), max_size=3),
)
def test_titles_around_a_name_never_change_it(name: str, before: list[str], after: list[str]) -> None:
    # given a name with any titles before and after it
    titled = " ".join([*before, name]) + "".join(f", {title}" for title in after)
    # when it is normalised
    # then it is the name without them
    assert name_normalised(titled) == name_normalised(name)


storable = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])


@given(text=st.text(alphabet=storable, max_size=150))
def test_normalising_twice_changes_nothing_and_leaves_single_spaces_in_lower_case(text: str) -> None:
    # given any text without a NUL or broken Unicode
    normalised = name_normalised(text)
    # when it is normalised again
    # then nothing changes, and it is lower case with single spaces between words
    assert name_normalised(normalised) == normalised
    assert normalised == normalised.strip() and "  " not in normalised
    assert normalised == normalised.casefold()


@given(text=latin)
def test_case_accents_and_spacing_do_not_count(text: str) -> None:
    # given a Latin name written in upper case, and with its spaces doubled
    # when it is compared with itself as written
    # then it matches whenever it has a word
    matches = account_name_matches(text.upper(), text.replace(" ", "  "))
    assert matches is bool(name_normalised(text))


# --- Banks --------------------------------------------------------------------------------------------------


def test_the_banks_are_read_from_the_data_file() -> None:
    # given the bank list in data/banks.json
    in_file = json.loads(BANKS_FILE.read_text(encoding="utf-8"))
    # when the banks are asked for
    # then they are the file's, as (code, name) choices
    assert banks() == [(bank["code"], bank["name"]) for bank in in_file]


def test_the_banks_have_unique_3_digit_codes_and_names() -> None:
    # given the bank list
    codes, bank_names = zip(*banks(), strict=True)
    # then every code is 3 digits, and no code or name is there twice
    assert len(codes) >= 40
    assert all(len(code) == 3 and code.isdigit() for code in codes)
    assert len(set(codes)) == len(codes) and len(set(bank_names)) == len(bank_names)


def test_the_common_banks_have_their_transfer_codes() -> None:
    # given the bank list
    listed = dict(banks())
    # then the banks partners use most are there with the codes transfer forms ask for
    assert {
        code: listed[code] for code in ("002", "008", "009", "014", "022", "200", "451", "542", "535")
    } == {
        "002": "Bank Rakyat Indonesia (BRI)",
        "008": "Bank Mandiri",
        "009": "Bank Negara Indonesia (BNI)",
        "014": "Bank Central Asia (BCA)",
        "022": "Bank CIMB Niaga",
        "200": "Bank Tabungan Negara (BTN)",
        "451": "Bank Syariah Indonesia (BSI)",
        "542": "Bank Jago",
        "535": "SeaBank Indonesia",
    }
    assert {"011", "013", "016", "019", "028", "110", "111", "113", "114", "213", "426"} <= listed.keys()


def test_a_caller_changing_its_bank_list_changes_nobody_elses() -> None:
    # given the bank list, emptied by one caller
    mine = banks()
    mine.clear()
    # when another caller asks
    # then it has every bank
    assert len(banks()) >= 40


# --- Documents ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "head", "kind"),
    [
        ("ktp.jpg", JPEG, "jpeg"),
        ("KTP.JPEG", JPEG, "jpeg"),
        ("ktp.jfif", JPEG, "jpeg"),
        ("ktp.png", PNG, "png"),
        ("npwp.pdf", PDF, "pdf"),
        ("scan", PDF, "pdf"),  # no extension: the content alone says
        ("C:\\fakepath\\ktp.jpg", JPEG, "jpeg"),
    ],
)
def test_a_document_is_recognised_by_its_content(name: str, head: bytes, kind: str) -> None:
    # given a JPG, PNG or PDF with a name that agrees
    # when it is checked
    # then its kind comes back
    assert document_check(name=name, head=head, size=200_000) == kind


def test_a_jpg_that_is_a_pdf_over_1_mb_is_refused_for_both() -> None:
    # given a PDF of 1 MB and one byte named ktp.jpg
    # when it is checked
    # then both problems are said
    assert refusal(document_check, name="ktp.jpg", head=PDF, size=DOCUMENT_MAX_BYTES + 1) == [
        "“ktp.jpg” is 1,048,577 bytes; a document may be at most 1 MB (1,048,576 bytes).",
        "“ktp.jpg” is named .jpg but its content is a PDF document: name it .pdf or upload the right file.",
    ]


def test_a_text_file_named_png_is_refused() -> None:
    # given a text file named ktp.png
    # when it is checked
    # then the message says it is none of the three, whatever its name
    assert refusal(document_check, name="ktp.png", head=b"Nama: Budi Santoso\n", size=19) == [
        "“ktp.png” is not a JPG, PNG or PDF file: its content is none of them, whatever its name says."
    ]


def test_an_image_of_exactly_1_mb_is_accepted_and_one_byte_more_is_not() -> None:
    # given a PNG of exactly 1 MB and one of 1 MB and a byte
    # when they are checked
    # then the first is accepted and the second refused
    assert DOCUMENT_MAX_BYTES == 1_048_576
    assert document_check(name="ktp.png", head=PNG, size=DOCUMENT_MAX_BYTES) == "png"
    assert refusal(document_check, name="ktp.png", head=PNG, size=DOCUMENT_MAX_BYTES + 1) == [
        "“ktp.png” is 1,048,577 bytes; a document may be at most 1 MB (1,048,576 bytes)."
    ]


@pytest.mark.parametrize(
    ("name", "head", "message"),
    [
        (
            "ktp.png",
            JPEG,
            "“ktp.png” is named .png but its content is a JPG image: name it .jpg or upload the right file.",
        ),
        (
            "ktp.pdf",
            PNG,
            "“ktp.pdf” is named .pdf but its content is a PNG image: name it .png or upload the right file.",
        ),
        (
            "ktp.txt",
            JPEG,
            "“ktp.txt” is named .txt but its content is a JPG image: name it .jpg or upload the right file.",
        ),
        (
            "ktp.jpg",
            JPEG[:2],
            "“ktp.jpg” is not a JPG, PNG or PDF file: its content is none of them, whatever its name says.",
        ),
        (
            "ktp.gif",
            b"GIF89a",
            "“ktp.gif” is not a JPG, PNG or PDF file: its content is none of them, whatever its name says.",
        ),
    ],
)
def test_a_name_that_says_another_kind_or_content_of_no_kind_is_refused(
    name: str, head: bytes, message: str
) -> None:
    # given a document whose extension disagrees with its content, or whose content is cut short or a GIF
    # when it is checked
    # then the message says what it really is
    assert refusal(document_check, name=name, head=head, size=200_000) == [message]


def test_an_empty_document_is_refused() -> None:
    # given an empty file
    # when it is checked
    # then the message says it is empty
    assert refusal(document_check, name="ktp.jpg", head=b"", size=0) == [
        "“ktp.jpg” is empty.",
        "“ktp.jpg” is not a JPG, PNG or PDF file: its content is none of them, whatever its name says.",
    ]


def test_a_document_name_over_255_characters_or_with_a_nul_is_refused() -> None:
    # given a file name of 256 characters, and one with a NUL
    # when they are checked
    # then each is refused before the content is looked at
    assert refusal(document_check, name="k" * 252 + ".jpg", head=JPEG, size=10) == [
        "The file name may be at most 255 characters long."
    ]
    assert refusal(document_check, name="ktp\x00.jpg", head=JPEG, size=10) == [
        "Remove the NUL character (\\0): it cannot be stored."
    ]
