"""Personal data is stored encrypted: the database never holds it in the clear."""

from __future__ import annotations

import sqlite3

from _registration_helpers import Registration, id_number

NAME = "王小明"
PHONE = "13800138000"


async def test_persons_row_holds_ciphertext_not_the_identity_number_name_or_phone(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    assert (await svc.declare(property_id)).status_code == 201

    with sqlite3.connect(svc.db_path) as raw:
        raw.row_factory = sqlite3.Row
        (row,) = raw.execute("SELECT * FROM persons").fetchall()
    stored = b"".join(
        v if isinstance(v, bytes) else str(v).encode() for v in dict(row).values() if v is not None
    )

    for secret in (id_number().encode(), NAME.encode(), PHONE.encode()):
        assert secret not in stored
    assert svc.cipher.decrypt(row["id_number_enc"]) == id_number()
    assert svc.cipher.decrypt(row["name_enc"]) == NAME
    assert svc.cipher.decrypt(row["phone_enc"]) == PHONE
    assert row["id_hash"] == svc.cipher.keyed_hash(id_number())


async def test_no_table_or_file_of_the_database_holds_the_identity_number_in_clear(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    assert (await svc.declare(property_id)).status_code == 201
    await svc.drain()

    files = [svc.db_path, *svc.db_path.parent.glob(svc.db_path.name + "-*")]
    content = b"".join(f.read_bytes() for f in files)

    assert b"12 Wentang Road" in content  # the data is there, readable, ...
    assert id_number().encode() not in content  # ... but not the personal data
    assert NAME.encode() not in content
    assert PHONE.encode() not in content
