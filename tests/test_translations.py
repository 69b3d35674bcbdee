"""The Bahasa Indonesia catalogue: every entry translated, the compiled .mo in step with the .po, and pages
actually rendered in Indonesian.

An untranslated or fuzzy entry fails here, so a new English string cannot reach CI without its translation:
run makemessages, translate, compilemessages (see relasi/locale/id/LC_MESSAGES/django.po).
"""

from __future__ import annotations

import ast
import gettext
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from relasi.accounts.models import User
from relasi.core.emails import email_render
from relasi.customers.models import Customer
from relasi.tenancy.models import Workspace

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "id" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]")
MARKUP = re.compile(r"<[^>]+>|&\w+;")


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgid_plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)


def read_po(path: Path) -> tuple[Entry, list[Entry]]:
    """The header and the entries of a .po file (obsolete `#~` entries are skipped)."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: str | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            current, target = None, None
            continue
        if line.startswith("#,"):
            current = current or _start(entries, number)
            current.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            current = current or _start(entries, number)
            continue
        current = current or _start(entries, number)
        keyword, _space, rest = line.partition(" ")
        if line.startswith('"'):
            value = _unquote(line)
        else:
            target, value = keyword, _unquote(rest)
            if target.startswith("msgstr"):
                current.msgstrs.append("")
        if target == "msgid":
            current.msgid += value
        elif target == "msgid_plural":
            current.msgid_plural = (current.msgid_plural or "") + value
        elif target is not None and target.startswith("msgstr"):
            current.msgstrs[-1] += value
    header = next(entry for entry in entries if entry.msgid == "")
    return header, [entry for entry in entries if entry.msgid != ""]


def _start(entries: list[Entry], number: int) -> Entry:
    entries.append(Entry(line=number))
    return entries[-1]


def _unquote(text: str) -> str:
    # PO strings use C escapes (\n, \", \\), which a Python string literal reads the same way.
    value = ast.literal_eval(text)
    assert isinstance(value, str)
    return value


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    # A request with the Indonesian cookie leaves "id" active in this thread; later tests that read
    # translation.get_language() (emails without a language) must not inherit it.
    yield
    translation.deactivate()


@pytest.fixture(scope="module")
def catalogue() -> tuple[Entry, list[Entry]]:
    return read_po(CATALOGUE / "django.po")


def indonesian(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    return client


def page_text(html: str) -> str:
    """What a reader sees, tags dropped and whitespace collapsed, so checks survive markup changes."""
    html = re.sub(r"(?s)<script.*?</script>", " ", html)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- the catalogue -------------------------------------------------------------------------------------


def test_the_header_declares_indonesian_with_one_plural_form(catalogue: tuple[Entry, list[Entry]]) -> None:
    header, _entries = catalogue
    fields = dict(line.split(": ", 1) for line in header.msgstrs[0].splitlines())
    assert (fields["Language"], fields["Plural-Forms"], fields["Content-Type"]) == (
        "id",
        "nplurals=1; plural=0;",
        "text/plain; charset=UTF-8",
    )


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue: tuple[Entry, list[Entry]]) -> None:
    _header, entries = catalogue
    problems = []
    for entry in entries:
        if "fuzzy" in entry.flags:
            problems.append(f"line {entry.line}: fuzzy: {entry.msgid!r}")
        # Indonesian has one plural form, so every entry has exactly one msgstr to fill.
        if len(entry.msgstrs) != 1 or not entry.msgstrs[0].strip():
            problems.append(f"line {entry.line}: untranslated: {entry.msgid!r}")
    assert len(entries) > 400
    assert problems == []


def test_translations_keep_placeholders_and_markup(catalogue: tuple[Entry, list[Entry]]) -> None:
    _header, entries = catalogue
    problems = []
    for entry in entries:
        # One plural form: msgstr[0] is used for every count, so it follows the plural source text.
        source = entry.msgid_plural if entry.msgid_plural is not None else entry.msgid
        for text in entry.msgstrs:
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
                problems.append(f"line {entry.line}: placeholders differ: {entry.msgid!r} → {text!r}")
            if MARKUP.findall(source) != MARKUP.findall(text):
                problems.append(f"line {entry.line}: markup differs: {entry.msgid!r} → {text!r}")
    assert problems == []


def test_the_navigation_keeps_the_translations_the_browser_tests_use(
    catalogue: tuple[Entry, list[Entry]],
) -> None:
    _header, entries = catalogue
    translated = {entry.msgid: entry.msgstrs[0] for entry in entries}
    assert {
        msgid: translated[msgid]
        for msgid in [
            "All customers",
            "Package usage",
            "Members",
            "Sign out",
            "Choose a new Relasi password",
        ]
    } == {
        "All customers": "Semua pelanggan",
        "Package usage": "Pemakaian paket",
        "Members": "Anggota",
        "Sign out": "Keluar",
        "Choose a new Relasi password": "Pilih kata sandi Relasi yang baru",
    }


def test_the_compiled_catalogue_matches_the_po(catalogue: tuple[Entry, list[Entry]]) -> None:
    _header, entries = catalogue
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        mo = gettext.GNUTranslations(compiled)
    stale = []
    expected_keys: set[object] = {""}
    for entry in entries:
        if entry.msgid_plural is not None:
            expected_keys.add((entry.msgid, 0))
            rendered = [mo.ngettext(entry.msgid, entry.msgid_plural, count) for count in (1, 5)]
            if rendered != [entry.msgstrs[0]] * 2:
                stale.append(entry.msgid)
        else:
            expected_keys.add(entry.msgid)
            if mo.gettext(entry.msgid) != entry.msgstrs[0]:
                stale.append(entry.msgid)
    assert stale == [], "django.mo is out of date: run manage.py compilemessages -l id"
    # Nothing left over in the .mo from strings that are gone from the .po.
    assert set(mo._catalog) == expected_keys  # type: ignore[attr-defined]


# --- pages in Indonesian -------------------------------------------------------------------------------


def test_sign_in_page_and_its_error_are_in_indonesian(alice: User) -> None:
    client = indonesian(Client())

    page = client.get("/accounts/login/")
    failed = client.post("/accounts/login/", {"username": "alice@acme.test", "password": "Salah!Sandi1"})

    assert page.status_code == failed.status_code == 200
    assert '<html lang="id">' in page.content.decode()
    text = page_text(page.content.decode())
    assert text.startswith("Masuk · Relasi")
    for phrase in ["Masuk ke ruang kerja Anda", "Email", "Lupa kata sandi?"]:
        assert phrase in text
    assert "Sign in" not in text
    assert "Email atau kata sandi salah." in page_text(failed.content.decode())


def test_all_customers_page_is_in_indonesian(alice: User, acme: Workspace, client_for) -> None:
    Customer.objects.create(workspace=acme, full_name="Budi Santoso", phone="+6281234567890")
    client = indonesian(client_for(alice))

    response = client.get("/app/acme/customers/")

    assert response.status_code == 200
    text = page_text(response.content.decode())
    assert text.startswith("Semua pelanggan · Relasi")
    for phrase in [
        "Kelola tampilan",
        "Aksi lainnya",
        "Ekspor ke CSV",
        "Tambah pelanggan",
        "Satu pelanggan",
        "Banyak pelanggan",
        "Pelanggan Dihapus",  # the two tabs
        "Cari",
        "Semua saluran",
        "Urutkan",
        "Pembaruan terakhir, terbaru dahulu",
        "1 pelanggan",
        "Nama pelanggan Saluran Nomor telepon Email Pembaruan terakhir Ditambahkan oleh Aksi",
        "Budi Santoso",
        "Lihat detail",
        "Tindakan massal",
    ]:
        assert phrase in text, phrase
    for english in ["All customers", "Manage view", "Add customer", "Last update", "Bulk actions", "Source"]:
        assert english not in text, english


def test_empty_deleted_tab_is_in_indonesian(alice: User, acme: Workspace, client_for) -> None:
    client = indonesian(client_for(alice))

    text = page_text(client.get("/app/acme/customers/?deleted=1").content.decode())

    assert (
        "0 pelanggan · Pelanggan yang dihapus dapat dipulihkan selama 30 hari, setelah itu dihapus permanen."
        in text
    )
    assert "Tidak ada pelanggan yang dihapus." in text


def test_manage_view_lists_built_in_property_columns_in_indonesian(
    alice: User, acme: Workspace, client_for
) -> None:
    client = indonesian(client_for(alice))

    text = page_text(client.get("/app/acme/customers/").content.decode())

    assert "Status Jabatan Provinsi Kabupaten/Kota Kecamatan Kelurahan Kode pos Batal Simpan tampilan" in text


def test_properties_page_is_in_indonesian_for_the_owner(alice: User, acme: Workspace, client_for) -> None:
    client = indonesian(client_for(alice))

    response = client.get("/app/acme/customers/properties/")

    assert response.status_code == 200
    text = page_text(response.content.decode())
    assert text.startswith("Properti · Relasi")
    for phrase in [
        "Properti baru",
        "Urutan Label Kunci Tipe Wajib Ditampilkan Asal Aksi",
        "Pindahkan Jabatan ke atas",
        "Kabupaten/Kota city Teks — Ditampilkan Bawaan Ubah",
        "Nama pengguna (saluran) channel_username Teks",
        "Saluran source Pilihan tunggal",
        "Diarsipkan",
        "Tidak ada properti yang diarsipkan.",
    ]:
        assert phrase in text, phrase
    assert "Built-in" not in text


def test_properties_page_tells_a_member_in_indonesian_that_only_owners_and_admins_change_it(
    bob: User, acme: Workspace, client_for
) -> None:
    client = indonesian(client_for(bob))

    text = page_text(client.get("/app/acme/customers/properties/").content.decode())

    assert "Hanya pemilik dan admin yang dapat mengubah properti." in text
    assert "Properti baru" not in text


def test_an_outsider_gets_the_not_found_page_in_indonesian(
    charlie: User, acme: Workspace, client_for
) -> None:
    client = indonesian(client_for(charlie))

    response = client.get("/app/acme/customers/properties/")

    assert response.status_code == 404
    text = page_text(response.content.decode())
    assert "Tidak ditemukan" in text
    assert "Halaman ini tidak ada, atau Anda tidak memiliki akses ke halaman ini." in text


def test_the_invitation_email_is_in_indonesian() -> None:
    subject, body, html = email_render(
        template="member_invited",
        context={
            "full_name": "Budi Santoso",
            "inviter_name": "Alice Owner",
            "workspace_name": "Acme Indonesia",
            "url": "https://relasi.test/app/",
        },
        language="id",
    )

    assert subject == "Anda ditambahkan ke Acme Indonesia di Relasi"
    assert body.startswith(
        "Halo Budi Santoso,\n\nAlice Owner menambahkan Anda ke ruang kerja Acme Indonesia di Relasi."
    )
    assert "Buka Relasi: https://relasi.test/app/" in body
    assert '<a href="https://relasi.test/app/">Buka Relasi</a>' in html
