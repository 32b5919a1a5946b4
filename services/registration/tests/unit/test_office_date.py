"""A person's birth date is checked against the office's date, not UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from common.errors import DomainError
from common.identity import ResidentId, check_character
from common.pii import PiiCipher
from registration.app.persons import PersonRecords

FIRST17 = "44030620260305123"  # born 5 March 2026
NUMBER = FIRST17 + check_character(FIRST17)
RECORDS = PersonRecords(PiiCipher("e" * 32, "h" * 32))


def test_before_0800_china_time_the_office_date_is_already_tomorrow_in_utc_terms() -> None:
    early = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)  # 07:30 on 5 March in the office

    assert RECORDS.today(early) == date(2026, 3, 5)
    assert ResidentId.parse(NUMBER, today=RECORDS.today(early)).value == NUMBER


def test_a_birth_date_after_the_office_date_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        ResidentId.parse(NUMBER, today=RECORDS.today(datetime(2026, 3, 4, 15, 59, tzinfo=UTC)))
    assert caught.value.field == "id_number"
