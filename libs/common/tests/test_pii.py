"""Personal data: encrypted at rest, hashed for lookup, masked for display, never logged."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from common.logging import configure_logging
from common.pii import (
    PiiCipher,
    mask_id_number,
    mask_name,
    mask_phone,
    redact,
    scrub_text,
)

ID_NUMBER = "11010519491231002X"
PHONE = "13800138000"


@pytest.fixture
def cipher() -> PiiCipher:
    return PiiCipher("encryption-secret", "hash-secret")


def test_encrypt_then_decrypt_returns_the_value(cipher: PiiCipher) -> None:
    assert cipher.decrypt(cipher.encrypt("张三")) == "张三"
    assert cipher.decrypt(cipher.encrypt(ID_NUMBER)) == ID_NUMBER


def test_ciphertext_does_not_contain_the_plaintext(cipher: PiiCipher) -> None:
    token = cipher.encrypt(ID_NUMBER)

    assert ID_NUMBER.encode() not in token
    assert "张三".encode() not in cipher.encrypt("张三")


def test_encrypting_the_same_value_twice_gives_different_ciphertexts(cipher: PiiCipher) -> None:
    assert cipher.encrypt(ID_NUMBER) != cipher.encrypt(ID_NUMBER)


def test_ciphertext_cannot_be_decrypted_with_another_key(cipher: PiiCipher) -> None:
    other = PiiCipher("another-encryption-secret", "hash-secret")

    with pytest.raises(ValueError, match="could not be decrypted"):
        other.decrypt(cipher.encrypt(ID_NUMBER))


def test_keyed_hash_is_stable_for_the_same_key(cipher: PiiCipher) -> None:
    again = PiiCipher("a-different-encryption-secret", "hash-secret")

    assert cipher.keyed_hash(ID_NUMBER) == cipher.keyed_hash(ID_NUMBER)
    assert again.keyed_hash(ID_NUMBER) == cipher.keyed_hash(ID_NUMBER)
    assert len(cipher.keyed_hash(ID_NUMBER)) == 64
    assert ID_NUMBER not in cipher.keyed_hash(ID_NUMBER)


def test_keyed_hash_depends_on_the_key_and_the_value(cipher: PiiCipher) -> None:
    other_key = PiiCipher("encryption-secret", "another-hash-secret")

    assert other_key.keyed_hash(ID_NUMBER) != cipher.keyed_hash(ID_NUMBER)
    assert cipher.keyed_hash("110105194912310021") != cipher.keyed_hash(ID_NUMBER)


def test_masking_keeps_only_the_ends() -> None:
    assert mask_id_number("440306199001011234") == "4403**********1234"
    assert mask_phone(PHONE) == "138****8000"
    assert mask_phone("12345") == "***"
    assert mask_name("张三丰") == "张**"
    assert mask_name("张") == "张*"
    assert mask_name("") == ""


def test_scrub_text_replaces_identity_and_phone_numbers() -> None:
    text = f"tenant {ID_NUMBER} (tel {PHONE}) moved in; id lower {ID_NUMBER.lower()}"

    scrubbed = scrub_text(text)

    assert ID_NUMBER not in scrubbed
    assert ID_NUMBER.lower() not in scrubbed
    assert PHONE not in scrubbed
    assert scrubbed == "tenant [id-number] (tel [phone]) moved in; id lower [id-number]"


def test_scrub_text_leaves_other_numbers_alone() -> None:
    text = "room 1203, order 1234567890123456789012, year 2026"

    assert scrub_text(text) == text


def test_redact_removes_sensitive_keys_at_any_depth() -> None:
    record = {
        "Name": "张三",
        "id_number": ID_NUMBER,
        "phone": PHONE,
        "room_no": "101",
        "nested": {"full_name": "李四", "capacity": 2, "items": [{"password": "pw"}]},
    }

    assert redact(record) == {
        "Name": "[redacted]",
        "id_number": "[redacted]",
        "phone": "[redacted]",
        "room_no": "101",
        "nested": {"full_name": "[redacted]", "capacity": 2, "items": [{"password": "[redacted]"}]},
    }


def test_redact_scrubs_numbers_inside_strings_of_any_container() -> None:
    redacted = redact({"error": f"duplicate {ID_NUMBER}", "args": (PHONE, 3, None)})

    assert redacted == {"error": "duplicate [id-number]", "args": ["[phone]", 3, None]}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_logs_carry_no_identity_number_or_name(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("pii-test", "INFO", json=True)
    log = structlog.get_logger("pii-test-logger")

    log.info(
        f"declared {ID_NUMBER}",
        name="王小明",
        note=f"reach on {PHONE}",
        detail={"id_number": ID_NUMBER},
        room_no="101",
    )
    logging.getLogger("stdlib-lib").warning("lib saw %s", ID_NUMBER)

    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(lines) == 2
    assert ID_NUMBER not in out
    assert "王小明" not in out and "\\u738b" not in out
    assert PHONE not in out
    ours = lines[0]
    assert ours["name"] == "[redacted]"
    assert ours["event"] == "declared [id-number]"
    assert ours["room_no"] == "101"
    assert ours["service"] == "pii-test"
    assert lines[1]["event"] == "lib saw [id-number]"
