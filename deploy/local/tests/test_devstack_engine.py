"""devstack.engine without an engine: the mirror it debootstraps from, the digests that
decide a rebuild, the image variables, the command line (the engine itself is exercised by
tests/containers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack import engine
from devstack.cli import build_parser


def test_the_mirror_is_the_hosts_own(tmp_path: Path) -> None:
    deb822 = tmp_path / "debian.sources"
    deb822.write_text(
        "Types: deb\nURIs: http://mirror.test/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.test/debian\nSuites: bookworm bookworm-updates\n"
    )
    legacy = tmp_path / "sources.list"
    legacy.write_text("deb http://security.test/debian-security bookworm-security main\n"
                      "deb http://legacy.test/debian bookworm main\n")  # fmt: skip
    missing = tmp_path / "none"
    assert engine.debian_mirror({}, deb822, legacy) == "http://mirror.test/debian"
    assert engine.debian_mirror({}, missing, legacy) == "http://legacy.test/debian"
    assert engine.debian_mirror({"DEBIAN_MIRROR": "http://x.test/d"}, deb822) == "http://x.test/d"
    with pytest.raises(engine.EngineError, match="DEBIAN_MIRROR"):
        engine.debian_mirror({}, missing, missing)


def test_an_image_is_rebuilt_when_a_file_of_its_folder_changes(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    first = engine.digest_of("base-digest", tmp_path)
    assert engine.digest_of("base-digest", tmp_path) == first
    assert engine.digest_of("other-base", tmp_path) != first  # its base changed
    (tmp_path / "entrypoint.sh").write_text("#!/bin/sh\n")
    assert engine.digest_of("base-digest", tmp_path) != first


def test_every_local_image_has_its_folder_and_an_earlier_base() -> None:
    built: list[str] = []
    for image in engine.LOCAL_BUILDS:
        if image.folder:
            assert (engine.IMAGES_DIR / image.folder / "Dockerfile").is_file(), image
            assert image.base in built, image  # its base is built before it
        built.append(image.name)
    assert set(engine.LOCAL_IMAGES.values()) <= set(built)


def test_a_set_image_variable_wins_and_official_images_are_the_default() -> None:
    env = {"KAFKA_IMAGE": "example/kafka:1", "POSTGRES_IMAGE": "pg:16", "PYTHON_IMAGE": "py:3"}
    assert engine.images_env(env) == env
    assert set(engine.OFFICIAL_IMAGES) == set(engine.LOCAL_IMAGES) == set(env)
    assert engine.OFFICIAL_IMAGES["KAFKA_IMAGE"] == "apache/kafka:4.1.1"


def test_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["engine", "up", "--no-install", "--rebuild"])
    assert (args.command, args.engine_command, args.install, args.rebuild) == (
        "engine", "up", False, True,
    )  # fmt: skip
    assert engine.run(build_parser().parse_args(["engine", "env"])) == 0
    printed = capsys.readouterr().out.splitlines()
    assert sorted(line.split("=")[0] for line in printed) == [
        f"export {var}" for var in sorted(engine.OFFICIAL_IMAGES)
    ]
