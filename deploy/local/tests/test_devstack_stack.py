"""The stack launcher, with fake services (deploy/local/tests/fakes) as real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack.ports import free_port
from devstack.stack import (
    STABLE_AFTER_S,
    StackError,
    Supervisor,
    discover_services,
    find_root,
    service_env,
)

FAKES = Path(__file__).parent / "fakes"


def _make_root(tmp_path: Path, services: tuple[str, ...] = ("fake", "nodemo")) -> Path:
    root = tmp_path / "repo"
    (root / "services").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname='x'\n")
    for name in services:
        (root / "services" / name).mkdir()
        (root / "services" / name / "pyproject.toml").write_text(f"[project]\nname='{name}'\n")
    return root


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _base_port(count: int = 2) -> int:
    for _ in range(50):
        base = free_port()
        if base + count < 65000 and all(_port_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no consecutive free ports")


def _devstack(root: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    full_env = {**os.environ, "PYTHONPATH": str(FAKES), **env}
    return subprocess.Popen(
        [sys.executable, "-m", "devstack", "run", "--root", str(root), "--no-colour", *args],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 240) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout)
    print(out)
    return proc.returncode, out


# ------------------------------------------------------------------------ unit
def test_discovery(tmp_path: Path) -> None:
    root = _make_root(tmp_path, ("beta", "alpha"))
    (root / "services" / "not-a-service").mkdir()  # no pyproject.toml
    (root / "services" / "README.md").write_text("x")
    specs = discover_services(root, 9000)
    assert [(s.name, s.port) for s in specs] == [("alpha", 9000), ("beta", 9001)]
    assert specs[0].env_prefix == "ALPHA" and specs[0].base_url == "http://127.0.0.1:9000"


def test_declared_port_offsets_are_kept_whatever_the_names(tmp_path: Path) -> None:
    root = _make_root(tmp_path, ("beta", "alpha", "zeta"))
    (root / "services" / "zeta" / "pyproject.toml").write_text(
        '[project]\nname = "zeta"\n\n[tool.devstack]\nport-offset = 0\n'
    )

    specs = discover_services(root, 9000)

    assert [(s.name, s.port) for s in specs] == [("alpha", 9001), ("beta", 9002), ("zeta", 9000)]


def test_two_services_declaring_one_port_offset_are_refused(tmp_path: Path) -> None:
    root = _make_root(tmp_path, ("alpha", "beta"))
    for name in ("alpha", "beta"):
        (root / "services" / name / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\n\n[tool.devstack]\nport-offset = 3\n'
        )

    with pytest.raises(StackError, match="port-offset 3"):
        discover_services(root)


def test_registration_keeps_port_8000() -> None:
    root = find_root(Path(__file__).parent)
    ports = {s.name: s.port for s in discover_services(root)}
    assert ports["registration"] == 8000


def test_a_services_demo_may_be_a_tool_outside_it(tmp_path: Path) -> None:
    root = _make_root(tmp_path, ("alpha", "beta"))
    (root / "services" / "beta" / "pyproject.toml").write_text(
        '[project]\nname = "beta"\n\n[tool.devstack]\ndemo = ["seed", "beta", "demo"]\n'
    )
    demos = {s.name: s.demo_command for s in discover_services(root)}
    assert demos == {"alpha": ("alpha", "demo"), "beta": ("seed", "beta", "demo")}

    (root / "services" / "beta" / "pyproject.toml").write_text(
        '[project]\nname = "beta"\n\n[tool.devstack]\ndemo = "seed beta demo"\n'
    )
    with pytest.raises(StackError, match="demo must be a list of strings"):
        discover_services(root)


def test_registrations_demo_is_the_seed_tool_not_in_its_image() -> None:
    root = find_root(Path(__file__).parent)
    (spec,) = [s for s in discover_services(root) if s.name == "registration"]
    assert spec.demo_command == ("seed", "registration", "demo")


def test_find_root(tmp_path: Path) -> None:
    root = _make_root(tmp_path)
    assert find_root(root / "services" / "fake") == root
    with pytest.raises(StackError):
        find_root(tmp_path)


def test_real_repo_is_discovered() -> None:
    root = find_root(Path(__file__).parent)
    assert "registration" in [s.name for s in discover_services(root)]


# ------------------------------------------------------------------------ processes
@pytest.mark.integration
def test_smoke_passes(tmp_path: Path) -> None:
    root = _make_root(tmp_path)
    # nodemo declares the first port: demos run in port order (upstream first)
    (root / "services" / "nodemo" / "pyproject.toml").write_text(
        "[project]\nname='nodemo'\n\n[tool.devstack]\nport-offset = 0\n"
    )
    code, out = _finish(_devstack(root, "--smoke", "--base-port", str(_base_port())))
    assert code == 0, out
    assert out.index("smoke: nodemo demo") < out.index("smoke: fake demo")
    assert "[fake]   demo: ok" in out
    assert "kafka round trip via fake.events ok (idempotent=False)" in out
    assert "smoke nodemo: no demo" in out
    assert "creating topics: fake.commands, fake.events, nodemo.commands, nodemo.events" in out
    assert "SMOKE PASSED" in out
    assert (root / ".stack" / "smoke" / "fake.db").exists()


@pytest.mark.integration
def test_failing_demo_fails_the_run(tmp_path: Path) -> None:
    root = _make_root(tmp_path, ("fake",))
    proc = _devstack(root, "--smoke", "--base-port", str(_base_port(1)), FAKE_DEMO_FAIL="1")
    code, out = _finish(proc)
    assert code != 0
    assert "SMOKE FAILED: fake failed (exit 1)" in out


@pytest.mark.integration
def test_not_ready_reports_the_service(tmp_path: Path) -> None:
    root = _make_root(tmp_path)
    proc = _devstack(
        root, "--base-port", str(_base_port()), "--ready-timeout", "3", FAKE_NOT_READY="1"
    )
    code, out = _finish(proc)
    assert code == 1
    assert "not ready after 3s (GET /readyz != 200): fake, nodemo" in out


@pytest.mark.integration
@pytest.mark.parametrize(("signum", "extra"), [(signal.SIGTERM, ("--seed",)), (signal.SIGINT, ())])
def test_signal_stops_everything(tmp_path: Path, signum: int, extra: tuple[str, ...]) -> None:
    root = _make_root(tmp_path)
    base = _base_port()
    proc = _devstack(root, "--base-port", str(base), *extra)
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    for line in proc.stdout:
        lines.append(line)
        if "stack is up" in line or time.monotonic() > deadline:
            break
    assert any("stack is up" in line for line in lines), "".join(lines)
    assert _listening(base) and _listening(base + 1)
    if extra:  # --seed ran the demos once, the stack stayed up
        assert any("seed fake: passed" in line for line in lines), "".join(lines)
        assert any("seed nodemo: no demo" in line for line in lines), "".join(lines)
    proc.send_signal(signum)
    code, out = _finish(proc, timeout=60)
    assert code == 0, "".join(lines) + out
    assert "stopped" in out
    assert not _listening(base) and not _listening(base + 1)
    env_file = root / ".stack" / "stack.env"
    text = env_file.read_text()
    assert "FAKE_KAFKA_IDEMPOTENT_PRODUCER=false" in text and "NODEMO_JWT_SECRET=" in text
    assert "FAKE_LOG_JSON=true" in text  # its output is a pipe here, not a terminal


def test_services_log_lines_for_people_in_a_terminal_and_json_otherwise(tmp_path: Path) -> None:
    (spec,) = discover_services(_make_root(tmp_path, ("fake",)))
    common = {"database_url": "sqlite://", "bootstrap": "b:1", "idempotent": True}

    terminal = service_env(spec, **common, jwt_secret="s", log_json=False)
    piped = service_env(spec, **common, jwt_secret="s")

    assert (terminal["FAKE_LOG_JSON"], piped["FAKE_LOG_JSON"]) == ("false", "true")


def test_the_supervisor_backs_off_and_forgets_a_crash_after_a_stable_run() -> None:
    sup = Supervisor()
    sup.started("svc", 0.0)

    waits = [sup.exited("svc", float(t)) for t in range(8)]  # crashes at once, again and again

    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert sup.count("svc") == 8
    sup.started("svc", 100.0)
    assert sup.exited("svc", 100.0 + STABLE_AFTER_S) == 1.0  # it ran long enough: a fresh start
    assert sup.waiting("svc") and not sup.due("svc", 160.5) and sup.due("svc", 161.0)


@pytest.mark.integration
def test_a_service_that_dies_is_started_again_and_the_stack_says_so(tmp_path: Path) -> None:
    root = _make_root(tmp_path, ("fake",))
    base = _base_port(1)
    marker = tmp_path / "died"
    proc = _devstack(root, "--base-port", str(base), FAKE_DIE_ONCE=str(marker))
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    for line in proc.stdout:
        lines.append(line)
        if "started again" in line or time.monotonic() > deadline:
            break
    try:
        text = "".join(lines)
        assert marker.exists(), text
        assert "fake exited with code 3; starting it again in 1s (restart 1)" in text
        assert "fake started again (restart 1)" in text
        for _ in range(40):  # the new process binds its port
            if _listening(base):
                break
            time.sleep(0.25)
        assert _listening(base), text
    finally:
        proc.send_signal(signal.SIGTERM)
        _finish(proc, timeout=60)


@pytest.mark.integration
def test_smoke_postgres_and_external_kafka(tmp_path: Path, kafka_bootstrap: str) -> None:
    root = _make_root(tmp_path, ("fake",))
    proc = _devstack(
        root, "--smoke", "--db", "postgres", "--broker", kafka_bootstrap,
        "--base-port", str(_base_port(1)),
    )  # fmt: skip
    code, out = _finish(proc)
    assert code == 0, out
    assert "migrated postgresql+asyncpg://postgres@127.0.0.1:" in out
    assert "(idempotent=True)" in out
