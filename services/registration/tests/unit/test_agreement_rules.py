"""Responsibility agreements: terms, renewal superseding, revocation, expiry at the day's end."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from common.errors import DomainError
from registration.domain.agreements import (
    Agreement,
    AgreementKind,
    AgreementPolicy,
    AgreementStatus,
    Subject,
    Terms,
)
from registration.events import AgreementExpired, AgreementRenewed, AgreementSigned

POLICY = AgreementPolicy()
NOW = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # 10:00 China time, 4 March
LANDLORD = Subject(AgreementKind.LANDLORD, "G1", "L1", property_id="prop-1")


def terms(
    signed_on: date = date(2026, 3, 1),
    valid_from: date = date(2026, 3, 1),
    valid_until: date = date(2027, 2, 28),
    office: str = "Wentang office",
) -> Terms:
    return Terms(office, signed_on, valid_from, valid_until)


def signed(subject: Subject = LANDLORD, **kw: date) -> Agreement:
    return Agreement.sign(
        agreement_id="a-1", subject=subject, terms=terms(**kw), now=NOW, policy=POLICY
    )


def test_signing_records_an_active_agreement_and_its_event() -> None:
    agreement = signed()

    assert agreement.status is AgreementStatus.ACTIVE
    assert agreement.in_force(date(2026, 3, 4))
    (event,) = agreement.events
    assert isinstance(event, AgreementSigned)
    assert (event.kind, event.property_id, event.employer_id, event.subject()) == (
        "landlord",
        "prop-1",
        None,
        "prop-1",
    )
    assert (event.valid_until, event.policy_version) == (date(2027, 2, 28), "default-2026")


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"signed_on": date(2026, 3, 5)}, "signed_on"),  # tomorrow
        ({"valid_from": date(2026, 2, 28)}, "valid_from"),  # before it was signed
        ({"valid_from": date(2026, 3, 10), "valid_until": date(2026, 3, 9)}, "valid_until"),
        ({"signed_on": date(2025, 1, 1), "valid_from": date(2025, 1, 1),
          "valid_until": date(2026, 3, 3)}, "valid_until"),  # already over
        ({"valid_until": date(2029, 3, 1)}, "valid_until"),  # longer than 3 years
    ],
    ids=["signed-in-future", "before-signing", "ends-before-start", "over", "too-long"],
)  # fmt: skip
def test_terms_that_make_no_agreement_today_are_refused_on_their_field(
    kw: dict[str, date], field: str
) -> None:
    with pytest.raises(DomainError) as err:
        signed(**kw)

    assert err.value.field == field


def test_an_agreement_may_run_exactly_the_policy_maximum() -> None:
    assert signed(valid_until=date(2029, 2, 28)).terms.valid_until == date(2029, 2, 28)
    assert POLICY.latest_end(date(2024, 2, 29)) == date(2027, 2, 28)


def test_whitespace_only_office_is_refused() -> None:
    with pytest.raises(DomainError) as err:
        Agreement.sign(
            agreement_id="a", subject=LANDLORD, terms=terms(office="  "), now=NOW, policy=POLICY
        )
    assert err.value.field == "counterpart_office"


def test_renewal_supersedes_the_active_agreement_for_the_same_subject() -> None:
    old = signed()

    new = old.renew(
        agreement_id="a-2",
        terms=terms(signed_on=date(2026, 3, 4), valid_from=date(2026, 3, 4),
                    valid_until=date(2028, 3, 3)),
        now=NOW,
        policy=POLICY,
    )  # fmt: skip

    assert (old.status, old.superseded_by) == (AgreementStatus.SUPERSEDED, "a-2")
    assert (new.status, new.supersedes, new.subject) == (AgreementStatus.ACTIVE, "a-1", LANDLORD)
    (event,) = new.events
    assert isinstance(event, AgreementRenewed)
    assert (event.agreement_id, event.previous_agreement_id) == ("a-2", "a-1")
    assert not old.in_force(date(2026, 3, 4)) and new.in_force(date(2026, 3, 4))


def test_renewing_an_expired_agreement_keeps_it_expired_and_links_the_renewal() -> None:
    old = signed(valid_until=date(2026, 3, 31))
    old.expire(now=datetime(2026, 3, 31, 16, 0, tzinfo=UTC), policy=POLICY)
    later = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)

    new = old.renew(
        agreement_id="a-2",
        terms=terms(signed_on=date(2026, 4, 2), valid_from=date(2026, 4, 2)),
        now=later,
        policy=POLICY,
    )

    assert (old.status, old.superseded_by) == (AgreementStatus.EXPIRED, "a-2")
    assert new.status is AgreementStatus.ACTIVE


@pytest.mark.parametrize("status", [AgreementStatus.REVOKED, AgreementStatus.SUPERSEDED])
def test_a_revoked_or_superseded_agreement_is_not_renewed(status: AgreementStatus) -> None:
    old = signed()
    old.status = status

    with pytest.raises(DomainError) as err:
        old.renew(agreement_id="a-2", terms=terms(valid_until=date(2028, 1, 1)), now=NOW,
                  policy=POLICY)  # fmt: skip

    assert err.value.field == "agreement_id"


def test_an_agreement_is_renewed_once_and_the_renewal_must_run_longer() -> None:
    old = signed()
    with pytest.raises(DomainError) as shorter:
        old.renew(agreement_id="a-2", terms=terms(), now=NOW, policy=POLICY)
    assert shorter.value.field == "valid_until"
    assert old.status is AgreementStatus.ACTIVE  # nothing changed

    old.renew(agreement_id="a-2", terms=terms(valid_until=date(2028, 1, 1)), now=NOW,
              policy=POLICY)  # fmt: skip
    with pytest.raises(DomainError) as twice:
        old.renew(agreement_id="a-3", terms=terms(valid_until=date(2028, 6, 1)), now=NOW,
                  policy=POLICY)  # fmt: skip
    assert "already renewed by a-2" in twice.value.message


def test_revoking_ends_an_active_agreement_only() -> None:
    agreement = signed()

    event = agreement.revoke(now=NOW)

    assert agreement.status is AgreementStatus.REVOKED
    assert (event.agreement_id, event.subject()) == ("a-1", "prop-1")
    with pytest.raises(DomainError):
        agreement.revoke(now=NOW)


def test_it_expires_at_midnight_china_time_after_its_last_day() -> None:
    agreement = signed(valid_until=date(2026, 3, 31))
    last_moment = datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC)  # 23:59:59 China time
    midnight = datetime(2026, 3, 31, 16, 0, tzinfo=UTC)

    assert POLICY.expires_at(date(2026, 3, 31)) == midnight
    assert agreement.expire(now=last_moment, policy=POLICY) is None
    assert agreement.status is AgreementStatus.ACTIVE
    event = agreement.expire(now=midnight, policy=POLICY)

    assert isinstance(event, AgreementExpired)
    assert agreement.status is AgreementStatus.EXPIRED
    assert (event.valid_until, event.expired_at) == (date(2026, 3, 31), midnight)
    assert agreement.expire(now=midnight + timedelta(days=1), policy=POLICY) is None


def test_a_superseded_agreement_does_not_expire() -> None:
    old = signed(valid_until=date(2026, 3, 31))
    old.renew(agreement_id="a-2", terms=terms(valid_until=date(2027, 3, 31)), now=NOW,
              policy=POLICY)  # fmt: skip

    assert old.expire(now=datetime(2026, 4, 1, tzinfo=UTC), policy=POLICY) is None
    assert old.status is AgreementStatus.SUPERSEDED


def test_one_active_agreement_per_subject_key() -> None:
    tenant_a = Subject(AgreementKind.TENANT, "G1", "P" + "a" * 23, property_id="prop-1")
    tenant_b = Subject(AgreementKind.TENANT, "G1", "P" + "b" * 23, property_id="prop-1")
    employer = Subject(AgreementKind.EMPLOYER, "G1", "91441900MA4W123456", employer_id="e-1")

    assert LANDLORD.key == "landlord:prop-1"
    assert tenant_a.key != tenant_b.key  # each tenant signs for their own tenancy
    assert employer.key == "employer:e-1"
    with pytest.raises(ValueError, match="about a property"):
        Subject(AgreementKind.LANDLORD, "G1", "L1", employer_id="e-1")
    with pytest.raises(ValueError, match="about an employer"):
        Subject(AgreementKind.EMPLOYER, "G1", "x", property_id="prop-1")


def test_policy_needs_at_least_a_year() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AgreementPolicy(max_validity_years=0)
