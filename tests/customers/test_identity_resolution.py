"""One profile across channels: the resolution table of `customer_resolve` (identity → username → phone → email →
new), what it learns, the junk it ignores, and the pairs it flags instead of merging."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from relasi.core.models import AuditLog
from relasi.customers.identity import Identifiers, customer_resolve
from relasi.customers.junk import junk_email, junk_phone
from relasi.customers.models import ChannelIdentity, ContactClaim, Customer, PossibleDuplicate, TimelineEntry
from relasi.customers.services import customers_delete

pytestmark = pytest.mark.django_db


def resolve(workspace, actor=None, **identifiers):
    return customer_resolve(workspace=workspace, actor=actor, identifiers=Identifiers(**identifiers))


def identities(workspace, customer) -> list[tuple[str, str, str]]:
    rows = ChannelIdentity.objects.for_workspace(workspace).filter(customer=customer).order_by("id")
    return [(row.channel, row.kind, row.external_id) for row in rows]


def live_count(workspace) -> int:
    return Customer.objects.for_workspace(workspace).filter(deleted_at__isnull=True).count()


@pytest.fixture
def budi(acme, make_customer) -> Customer:
    """A known customer with every identifier: WhatsApp id and username, phone, email."""
    customer = make_customer(
        acme, "Budi Santoso", source="whatsapp", phone="+6281234567801", email="budi@toko.id"
    )
    ChannelIdentity.objects.create(
        workspace=acme, customer=customer, channel="whatsapp", kind="id", external_id="ID.1001"
    )
    ChannelIdentity.objects.create(
        workspace=acme, customer=customer, channel="whatsapp", kind="username", external_id="budi.s"
    )
    return customer


@pytest.mark.parametrize(
    ("identifiers", "matched"),
    [
        ({"channel": "whatsapp", "external_id": "ID.1001"}, "identity"),
        ({"channel": "whatsapp", "username": "@Budi.S"}, "username"),
        ({"phone": "+6281234567801"}, "phone"),
        ({"phone": "081234567801"}, "phone"),
        ({"phone": "6281234567801"}, "phone"),
        ({"phone": "0812-3456-7801"}, "phone"),
        ({"email": " Budi@Toko.ID "}, "email"),
        (
            {
                "channel": "whatsapp",
                "external_id": "ID.1001",
                "phone": "081234567801",
                "email": "budi@toko.id",
            },
            "identity",
        ),
        ({"channel": "whatsapp", "username": "budi.s", "phone": "081234567801"}, "username"),
        ({"phone": "081234567801", "email": "budi@toko.id"}, "phone"),
    ],
)
def test_each_identifier_alone_and_combined_finds_the_known_customer(
    acme, budi, identifiers, matched
) -> None:
    # given Budi with every identifier
    # when an event names him by one of them, or several
    resolution = resolve(acme, **identifiers)
    # then it lands on Budi, says what matched, creates nobody and flags nothing
    assert (resolution.customer.pk, resolution.created, resolution.matched) == (budi.pk, False, matched)
    assert resolution.possible_duplicate_ids == ()
    assert live_count(acme) == 1


def test_an_instagram_username_does_not_match_the_whatsapp_one(acme, budi) -> None:
    # when the same username arrives on another channel
    resolution = resolve(acme, channel="instagram", username="budi.s")
    # then it is someone new (a handle is per channel)
    assert (resolution.created, resolution.matched) == (True, "new")
    assert resolution.customer.full_name == "@budi.s"
    assert identities(acme, resolution.customer) == [("instagram", "username", "budi.s")]


def test_an_id_and_a_username_with_the_same_text_are_not_the_same_identity(acme, budi) -> None:
    # when a WhatsApp id reads like Budi's username
    resolution = resolve(acme, channel="whatsapp", external_id="budi.s")
    # then it does not match Budi
    assert resolution.created is True
    assert resolution.customer.pk != budi.pk


def test_nothing_known_creates_one_customer_with_every_identifier(acme, alice) -> None:
    # when a new person writes with everything
    resolution = resolve(
        acme,
        alice,
        channel="whatsapp",
        external_id="ID.2002",
        username="sari_g",
        phone="0813 9876 5432",
        email="Sari@Mail.ID",
        full_name="Sari Ginting",
    )
    # then one customer holds it all, normalised
    customer = resolution.customer
    assert (resolution.created, resolution.matched) == (True, "new")
    assert (customer.full_name, customer.source, customer.phone, customer.phone_raw, customer.email) == (
        "Sari Ginting",
        "whatsapp",
        "+6281398765432",
        "0813 9876 5432",
        "sari@mail.id",
    )
    assert identities(acme, customer) == [("whatsapp", "id", "ID.2002"), ("whatsapp", "username", "sari_g")]
    claims = ContactClaim.objects.for_workspace(acme).order_by("kind")
    assert [(claim.kind, claim.value, claim.customer_id) for claim in claims] == [
        ("email", "sari@mail.id", customer.pk),
        ("phone", "+6281398765432", customer.pk),
    ]
    # and the creation is audited and on the timeline, by alice
    audit = AuditLog.objects.get(action="customer.created", target_id=str(customer.pk))
    assert audit.actor_label == "alice@acme.test"
    assert audit.changes["via"] == "identity resolution"
    entries = TimelineEntry.objects.for_workspace(acme).filter(customer=customer)
    assert [(entry.action, entry.summary) for entry in entries] == [
        ("customer.created", {"name": "Sari Ginting"})
    ]
    # when the same person writes again
    again = resolve(acme, alice, channel="whatsapp", external_id="ID.2002", phone="+6281398765432")
    # then nobody new, nothing learnt
    assert (again.customer.pk, again.created, again.linked) == (customer.pk, False, ())
    assert live_count(acme) == 1


def test_a_whatsapp_user_first_seen_with_phone_and_id_later_with_the_id_only_is_the_same_customer(
    acme,
) -> None:
    # given a WhatsApp user seen with their phone (wa_id) and business-scoped user id
    first = resolve(acme, channel="whatsapp", external_id="ID.3003", phone="6281311112222", full_name="Andi")
    # when they hide their phone and write again with the user id only
    later = resolve(acme, channel="whatsapp", external_id="ID.3003", username="andi.wa")
    # then it is the same customer, who learns the username
    assert (later.customer.pk, later.created, later.matched) == (first.customer.pk, False, "identity")
    assert later.linked == ("username",)
    assert later.customer.phone == "+6281311112222"
    assert identities(acme, first.customer) == [
        ("whatsapp", "id", "ID.3003"),
        ("whatsapp", "username", "andi.wa"),
    ]
    assert live_count(acme) == 1


def test_what_the_event_knows_and_the_customer_lacks_is_linked_audited_and_on_the_timeline(
    acme, alice, make_customer
) -> None:
    # given a customer known by phone only
    customer = make_customer(acme, "Rina", phone="+6281255556666")
    # when an event names her by phone with a WhatsApp id and an email
    resolution = resolve(
        acme, alice, channel="whatsapp", external_id="ID.4004", phone="0812-5555-6666", email="rina@x.id"
    )
    # then she gets both
    customer.refresh_from_db()
    assert (resolution.matched, resolution.linked) == ("phone", ("identity", "email"))
    assert customer.email == "rina@x.id"
    assert identities(acme, customer) == [("whatsapp", "id", "ID.4004")]
    audit = AuditLog.objects.get(action="customer.identified")
    assert (audit.target_id, audit.actor_label) == (str(customer.pk), "alice@acme.test")
    assert audit.changes == {"linked": {"identity": "whatsapp:ID.4004", "email": "rina@x.id"}}
    line = TimelineEntry.objects.for_workspace(acme).get(customer=customer)
    assert (line.action, line.summary) == ("customer.identified", {"linked": audit.changes["linked"]})


def test_a_customer_phone_is_filled_only_when_empty(acme, make_customer) -> None:
    # given a customer with an email and a phone
    customer = make_customer(acme, "Dewi", phone="+6281277778888", email="dewi@x.id")
    # when an event names her by email with another phone
    resolution = resolve(acme, email="dewi@x.id", phone="081299990000")
    # then her phone stays hers and nothing is linked
    customer.refresh_from_db()
    assert (resolution.customer.pk, resolution.linked, customer.phone) == (customer.pk, (), "+6281277778888")


@pytest.mark.parametrize(
    "identifiers",
    [
        {"phone": ""},
        {"phone": "0"},
        {"phone": "-"},
        {"phone": "null"},
        {"phone": "08888888888"},
        {"phone": "+628888888888"},
        {"phone": "081234567890"},
        {"phone": "not a phone"},
        {"email": "none"},
        {"email": "test@test.com"},
        {"email": "someone@example.com"},
        {"email": "budi@toko.id.example.com"},
        {"email": "anonymous"},
        {"channel": "whatsapp", "external_id": "unknown"},
        {"channel": "whatsapp", "username": "anonymous"},
        {"channel": "whatsapp", "username": "@"},
    ],
)
def test_junk_never_matches_and_is_never_stored(acme, make_customer, identifiers) -> None:
    # given customers holding the junk values themselves (as an old import might have stored them)
    holder = make_customer(acme, "Junk holder", phone="+628888888888", email="test@test.com")
    ChannelIdentity.objects.create(
        workspace=acme, customer=holder, channel="whatsapp", kind="id", external_id="unknown"
    )
    ChannelIdentity.objects.create(
        workspace=acme, customer=holder, channel="whatsapp", kind="username", external_id="anonymous"
    )
    # when an event carries only junk, with a name
    resolution = resolve(acme, full_name="Tanpa Kontak", **identifiers)
    # then it matches nobody: a new customer without the junk value, and the value is reported as ignored
    customer = resolution.customer
    assert (resolution.created, resolution.matched, resolution.possible_duplicate_ids) == (True, "new", ())
    assert (customer.phone, customer.email, identities(acme, customer)) == ("", "", [])
    assert resolution.ignored == tuple(
        name for name, value in identifiers.items() if name != "channel" and value
    )
    assert ContactClaim.objects.for_workspace(acme).count() == 0


def test_the_junk_list_is_data() -> None:
    # all-same digits, listed test numbers and reserved email domains; real ones pass
    assert [junk_phone(value) for value in ("+628888888888", "+6281234567890", "+6281398765432")] == [
        True,
        True,
        False,
    ]
    assert [junk_email(value) for value in ("a@example.org", "test@gmail.com", "sari@mail.id")] == [
        True,
        True,
        False,
    ]


def test_two_identified_customers_are_never_merged_but_flagged(acme, alice, budi, make_customer) -> None:
    # given another customer, Sari, with her own phone
    sari = make_customer(acme, "Sari", phone="+6281398765432")
    # when an event carries Budi's WhatsApp id and Sari's phone
    resolution = resolve(acme, alice, channel="whatsapp", external_id="ID.1001", phone="0813-9876-5432")
    # then it attaches to Budi (the id comes first), Sari stays as she is, and the pair is flagged
    assert (resolution.customer.pk, resolution.matched, resolution.possible_duplicate_ids) == (
        budi.pk,
        "identity",
        (sari.pk,),
    )
    budi.refresh_from_db()
    sari.refresh_from_db()
    assert (budi.phone, sari.phone, sari.deleted_at) == ("+6281234567801", "+6281398765432", None)
    assert identities(acme, sari) == []
    pair = PossibleDuplicate.objects.for_workspace(acme).get()
    assert (pair.customer_low_id, pair.customer_high_id, pair.reason, pair.dismissed_at) == (
        budi.pk,
        sari.pk,
        "phone",
        None,
    )
    assert AuditLog.objects.get(action="customer.possible_duplicate").changes == {
        "customers": [budi.pk, sari.pk],
        "reason": "phone",
    }
    # when the same conflict arrives again, the other way round (Sari's email... her phone, Budi's username)
    again = resolve(acme, channel="whatsapp", username="budi.s", phone="081398765432")
    # then still one pair, stored low id first
    assert again.possible_duplicate_ids == (sari.pk,)
    assert PossibleDuplicate.objects.for_workspace(acme).count() == 1
    assert live_count(acme) == 2


def test_a_phone_another_customer_holds_is_not_copied_to_the_one_the_event_attached_to(
    acme, make_customer
) -> None:
    # given Budi known by WhatsApp id only, and Sari by phone
    budi = make_customer(acme, "Budi", source="whatsapp")
    ChannelIdentity.objects.create(
        workspace=acme, customer=budi, channel="whatsapp", kind="id", external_id="ID.7"
    )
    sari = make_customer(acme, "Sari", phone="+6281398765432")
    # when an event carries Budi's id and Sari's phone
    resolution = resolve(acme, channel="whatsapp", external_id="ID.7", phone="081398765432")
    # then it attaches to Budi without taking Sari's phone, and flags the pair
    budi.refresh_from_db()
    assert (resolution.customer.pk, resolution.linked, budi.phone) == (budi.pk, (), "")
    assert resolution.possible_duplicate_ids == (sari.pk,)
    assert ContactClaim.objects.for_workspace(acme).count() == 0


def test_a_dismissed_pair_is_not_flagged_again(acme, alice, budi, make_customer) -> None:
    from relasi.customers.identity import possible_duplicate_dismiss

    # given the pair Budi–Sari, dismissed as not a duplicate
    sari = make_customer(acme, "Sari", email="sari@mail.id")
    first = resolve(acme, phone="081234567801", email="sari@mail.id")
    pair = PossibleDuplicate.objects.for_workspace(acme).get()
    assert (first.customer.pk, pair.reason) == (budi.pk, "email")
    possible_duplicate_dismiss(workspace=acme, actor=alice, duplicate_id=pair.pk)
    # when the same identifiers come again
    again = resolve(acme, phone="081234567801", email="sari@mail.id")
    # then no open pair is reported
    assert again.possible_duplicate_ids == ()
    assert PossibleDuplicate.objects.for_workspace(acme).filter(dismissed_at__isnull=True).count() == 0
    assert sari.pk != budi.pk


def test_a_deleted_customer_is_not_matched_and_its_identities_move_to_the_new_one(acme, alice, budi) -> None:
    # given Budi deleted
    customers_delete(workspace=acme, actor=alice, customer_ids=[budi.pk])
    # when his WhatsApp id and phone arrive
    resolution = resolve(
        acme, channel="whatsapp", external_id="ID.1001", phone="081234567801", full_name="Budi"
    )
    # then a new live customer is created and takes the id, so the next event finds it
    assert (resolution.created, resolution.matched) == (True, "new")
    assert resolution.customer.pk != budi.pk
    assert identities(acme, resolution.customer) == [("whatsapp", "id", "ID.1001")]
    assert identities(acme, budi) == [("whatsapp", "username", "budi.s")]
    assert ContactClaim.objects.for_workspace(acme).get(kind="phone").customer_id == resolution.customer.pk
    next_event = resolve(acme, phone="+6281234567801")
    assert (next_event.customer.pk, next_event.matched) == (resolution.customer.pk, "phone")
    # and the deleted one is neither matched nor flagged
    assert next_event.possible_duplicate_ids == ()


def test_a_claim_left_by_a_deleted_customer_follows_the_phone(acme, alice) -> None:
    # given a customer created by resolution for a phone, then deleted
    first = resolve(acme, phone="081311113333")
    customers_delete(workspace=acme, actor=alice, customer_ids=[first.customer.pk])
    # when the phone comes again
    second = resolve(acme, phone="081311113333")
    # then a new customer takes it, and a third event finds that one
    third = resolve(acme, phone="+6281311113333")
    assert (second.created, third.created, third.customer.pk) == (True, False, second.customer.pk)


def test_another_workspace_is_never_matched(acme, globex, budi) -> None:
    # when globex receives Budi's identifiers
    resolution = resolve(globex, channel="whatsapp", external_id="ID.1001", phone="081234567801")
    # then globex gets its own customer
    assert resolution.created is True
    assert resolution.customer.workspace_id == globex.pk


@pytest.mark.parametrize(
    ("identifiers", "field"),
    [
        ({"channel": "fax", "external_id": "1"}, "channel"),
        ({"external_id": "ID.1"}, "channel"),
        ({"channel": "whatsapp", "external_id": "x" * 201}, "external_id"),
        ({"phone": "0812\x003456"}, "phone"),
        ({"full_name": "a" * 201}, "full_name"),
    ],
)
def test_out_of_bounds_values_are_refused_before_anything_is_looked_up(acme, identifiers, field) -> None:
    with pytest.raises(ValidationError) as refused:
        resolve(acme, **identifiers)
    assert list(refused.value.error_dict) == [field]
    assert Customer.objects.for_workspace(acme).count() == 0


def test_what_a_form_stores_as_empty_is_also_junk_to_resolution() -> None:
    # the form's placeholders for "nothing" are a subset of the values resolution never matches
    from relasi.customers.junk import junk_list
    from relasi.customers.normalize import JUNK_VALUES

    assert JUNK_VALUES.issubset(junk_list().values)
