"""A Docker engine and the local images, on a machine that reaches no image registry.

``devstack engine up`` makes what the container tier, the service images and
``docker compose up`` need, and is fast when everything is already there:

1. **The engine.** When no engine answers: Debian's ``docker.io`` (and ``debootstrap``)
   installed with apt if missing and allowed (root, ``--install``, the default), and
   ``dockerd`` started by hand (no systemd), its log in the cache.
2. **The CLI plugins** ``compose`` and ``buildx``, built once from their Go modules into the
   cache (outside the repository) and copied to ``~/.docker/cli-plugins/``.
3. **Local base images**, each rebuilt only when its inputs change (a digest label):
   ``wentang-local/debian:bookworm`` (``debootstrap --variant=minbase`` from the host's
   own Debian mirror, with the machine's CA bundle: package registries are reached through
   a TLS-inspecting proxy), a Python 3.11 and a Java 17 base on it, and stand-ins for
   the images the compose file names, built from ``deploy/local/images/``:
   ``wentang-local/kafka:4.1.1`` from the Kafka jars of the local launcher and
   ``wentang-local/postgres:15`` from Debian's PostgreSQL 15, honouring the official
   images' variables and init scripts.

The image names are parameters, with the official images as defaults
(:data:`OFFICIAL_IMAGES`): ``PYTHON_IMAGE``, ``KAFKA_IMAGE``, ``POSTGRES_IMAGE``.
``devstack engine env`` prints them pointing at the local stand-ins, for a shell
(``eval "$(devstack engine env)"``), ``docker compose`` and the tests; a workstation that
pulls the official images sets nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = [
    "LOCAL_IMAGES",
    "OFFICIAL_IMAGES",
    "EngineError",
    "build_images",
    "engine_answers",
    "ensure_engine",
    "ensure_plugins",
    "image_for",
    "images_env",
    "main",
    "up",
]

HERE = Path(__file__).resolve().parent
IMAGES_DIR = HERE.parents[1] / "images"  # deploy/local/images

COMPOSE_MODULE, COMPOSE_VERSION = "github.com/docker/compose/v5", "v5.6.0"
BUILDX_MODULE, BUILDX_VERSION = "github.com/docker/buildx", "v0.38.2"

#: The images the compose file, the Dockerfiles and the tests name, by their variable.
OFFICIAL_IMAGES = {
    "PYTHON_IMAGE": "python:3.11-slim",
    "KAFKA_IMAGE": "apache/kafka:4.1.1",
    "POSTGRES_IMAGE": "postgres:15",
}
LOCAL = "wentang-local"
#: The local stand-ins, by the same variables.
LOCAL_IMAGES = {
    "PYTHON_IMAGE": f"{LOCAL}/python:3.11",
    "KAFKA_IMAGE": f"{LOCAL}/kafka:4.1.1",
    "POSTGRES_IMAGE": f"{LOCAL}/postgres:15",
}
DEBIAN_IMAGE = f"{LOCAL}/debian:bookworm"
JRE_IMAGE = f"{LOCAL}/jre:17"
DIGEST_LABEL = "org.wentang.devstack.digest"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


class EngineError(RuntimeError):
    """The engine, a plugin or an image could not be had; the message says why."""


def cache_dir() -> Path:
    root = os.environ.get("DEVSTACK_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "devstack"
    return base / "engine"


def _say(message: str) -> None:
    print(f"[engine] {message}", file=sys.stderr, flush=True)


def _run(
    cmd: Sequence[str],
    *,
    timeout: float = 1800,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: int | IO[bytes] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``cmd``; on failure raise :class:`EngineError` with the end of its output."""
    result = subprocess.run(
        list(cmd),
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdin=stdin,
        check=False,
    )
    if result.returncode != 0:
        out = (result.stdout + result.stderr).decode(errors="replace")[-4000:]
        raise EngineError(f"{' '.join(cmd[:4])} ... failed (exit {result.returncode}):\n{out}")
    return result


# --------------------------------------------------------------------------- engine
def engine_answers(timeout: float = 5.0) -> bool:
    """True when ``docker`` is on PATH and its engine answers."""
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def _apt_install(packages: Iterable[str]) -> None:
    wanted = list(packages)
    if shutil.which("apt-get") is None:
        raise EngineError(f"cannot install {' '.join(wanted)}: no apt-get (not Debian?)")
    if os.geteuid() != 0:
        raise EngineError(f"cannot install {' '.join(wanted)}: not root")
    _say(f"installing {' '.join(wanted)} (apt-get)")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-q"], env=env, timeout=600)
    _run(["apt-get", "install", "-y", "-q", *wanted], env=env, timeout=1200)


def ensure_engine(*, install: bool = True, timeout: float = 60.0) -> None:
    """An engine that answers: installed and started by hand when there is none."""
    if engine_answers():
        return
    dockerd = shutil.which("dockerd") or shutil.which("dockerd", path="/usr/sbin:/usr/bin")
    missing = [
        package
        for package, tool in (("docker.io", dockerd), ("debootstrap", shutil.which("debootstrap")))
        if tool is None
    ]
    if missing:
        if not install:
            raise EngineError(f"no engine answers and {', '.join(missing)} is not installed")
        _apt_install(missing)
        dockerd = shutil.which("dockerd") or shutil.which("dockerd", path="/usr/sbin:/usr/bin")
    if engine_answers():  # the package's own service may have started it
        return
    if dockerd is None:
        raise EngineError("dockerd is not installed")
    if os.geteuid() != 0:
        raise EngineError("no engine answers, and starting dockerd needs root")
    log = cache_dir() / "dockerd.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    _say(f"starting {dockerd} (log: {log})")
    with log.open("ab") as out:
        subprocess.Popen(
            [dockerd],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command, as a service would
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine_answers():
            return
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:]
    raise EngineError(f"dockerd did not answer within {timeout:.0f} s:\n{tail}")


# --------------------------------------------------------------------------- plugins
@dataclass(frozen=True)
class Plugin:
    name: str  # compose, buildx
    module: str
    version: str
    package: str  # the main package, relative to the module
    version_var: str  # -X of the version string

    def installed_version(self) -> str:
        result = subprocess.run(
            ["docker", self.name, "version"], capture_output=True, timeout=30, check=False
        )
        return result.stdout.decode(errors="replace") if result.returncode == 0 else ""


PLUGINS = (
    Plugin(
        "compose", COMPOSE_MODULE, COMPOSE_VERSION, "./cmd", f"{COMPOSE_MODULE}/internal.Version"
    ),
    Plugin(
        "buildx", BUILDX_MODULE, BUILDX_VERSION, "./cmd/buildx", f"{BUILDX_MODULE}/version.Version"
    ),
)


def _build_plugin(plugin: Plugin, target: Path) -> None:
    go = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")
    if go is None:
        raise EngineError(f"cannot build docker-{plugin.name}: no `go` on PATH")
    _say(f"building docker-{plugin.name} {plugin.version} from its Go module (once)")
    started = time.monotonic()
    download = _run([go, "mod", "download", "-json", f"{plugin.module}@{plugin.version}"])
    source = Path(json.loads(download.stdout)["Dir"])
    staging = target.with_suffix(".tmp")
    _run(
        [
            go,
            "build",
            "-trimpath",
            "-ldflags",
            f"-s -w -X {plugin.version_var}={plugin.version}",
            "-o",
            str(staging),
            plugin.package,
        ],
        cwd=source,
        env={"CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly -buildvcs=false"},
    )
    staging.rename(target)
    _say(f"built docker-{plugin.name} in {time.monotonic() - started:.0f} s")


def ensure_plugins() -> None:
    """``docker compose`` and ``docker buildx`` at their pinned versions."""
    plugins_dir = Path.home() / ".docker" / "cli-plugins"
    for plugin in PLUGINS:
        if plugin.version in plugin.installed_version():
            continue
        built = cache_dir() / "plugins" / f"docker-{plugin.name}-{plugin.version}"
        built.parent.mkdir(parents=True, exist_ok=True)
        if not built.exists():
            _build_plugin(plugin, built)
        plugins_dir.mkdir(parents=True, exist_ok=True)
        installed = plugins_dir / f"docker-{plugin.name}"
        shutil.copy2(built, installed)
        installed.chmod(0o755)
        if plugin.version not in plugin.installed_version():
            raise EngineError(f"docker {plugin.name} does not run after installing {installed}")


# --------------------------------------------------------------------------- images
def digest_of(*parts: bytes | str | Path) -> str:
    """A digest of strings, bytes and files or folders (names and contents)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            files = sorted(p for p in part.rglob("*") if p.is_file()) if part.is_dir() else [part]
            for f in files:
                h.update(str(f.relative_to(part) if part.is_dir() else f.name).encode())
                h.update(f.read_bytes())
                h.update(b"\0")
        else:
            h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\1")
    return h.hexdigest()[:16]


def image_digest(name: str) -> str | None:
    """The digest label of a local image, ``""`` without one, None when it is absent."""
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", name],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        return None
    labels = json.loads(result.stdout or b"null") or {}
    return str(labels.get(DIGEST_LABEL, ""))


APT_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
APT_LEGACY_SOURCES = Path("/etc/apt/sources.list")


def debian_mirror(
    environ: Mapping[str, str] | None = None,
    sources: Path = APT_SOURCES,
    legacy: Path = APT_LEGACY_SOURCES,
) -> str:
    """The host's own Debian mirror (``DEBIAN_MIRROR`` overrides), from apt's sources:
    the first deb822 ``URIs`` or ``deb`` line that is not the security archive."""
    environ = os.environ if environ is None else environ
    if environ.get("DEBIAN_MIRROR"):
        return environ["DEBIAN_MIRROR"]
    if sources.is_file():
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:"):
                uri = line.split(":", 1)[1].split()[0]
                if not uri.rstrip("/").endswith("-security"):
                    return uri
    if legacy.is_file():
        for line in legacy.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[0] == "deb" and "security" not in fields[1]:
                return fields[1]
    raise EngineError("no Debian mirror in apt's sources; set DEBIAN_MIRROR")


def _host_sources() -> Path | None:
    """The host's deb822 sources when the host is bookworm (the image's suites too)."""
    sources = APT_SOURCES
    return sources if sources.is_file() and "bookworm" in sources.read_text() else None


def _build_debian(digest: str) -> None:
    debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin")
    if debootstrap is None:
        raise EngineError("debootstrap is not installed (apt-get install debootstrap)")
    if not CA_BUNDLE.is_file():
        raise EngineError(f"no CA bundle at {CA_BUNDLE}")
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=cache_dir()) as tmp:
        rootfs = Path(tmp) / "rootfs"
        _say(f"debootstrap --variant=minbase bookworm ({debian_mirror()})")
        _run([debootstrap, "--variant=minbase", "bookworm", str(rootfs), debian_mirror()])
        # The machine's CA bundle: as the system store now, and where ca-certificates
        # (installed by images later) adds local certificates when it rebuilds the store.
        local_ca = rootfs / "usr/local/share/ca-certificates"
        local_ca.mkdir(parents=True, exist_ok=True)
        shutil.copy(CA_BUNDLE, local_ca / "machine-ca-bundle.crt")
        (rootfs / "etc/ssl/certs").mkdir(parents=True, exist_ok=True)
        shutil.copy(CA_BUNDLE, rootfs / "etc/ssl/certs/ca-certificates.crt")
        host_sources = _host_sources()
        if host_sources is not None:
            (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
            shutil.copy(host_sources, rootfs / "etc/apt/sources.list.d/debian.sources")
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for f in (rootfs / leftover).glob("*"):
                if f.is_file():
                    f.unlink()
        tar = subprocess.Popen(
            ["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE
        )
        try:
            _run(
                [
                    "docker",
                    "import",
                    "--change",
                    "ENV LANG=C.UTF-8",
                    "--change",
                    'CMD ["bash"]',
                    "--change",
                    f"LABEL {DIGEST_LABEL}={digest}",
                    "-",
                    DEBIAN_IMAGE,
                ],
                stdin=tar.stdout,
            )
        finally:
            if tar.wait() != 0:
                raise EngineError(f"tar of {rootfs} failed (exit {tar.returncode})")


def _build(name: str, context: Path, digest: str, args: Mapping[str, str]) -> None:
    cmd = ["docker", "build", "--network", "host", "--label", f"{DIGEST_LABEL}={digest}"]
    for key, value in args.items():
        cmd += ["--build-arg", f"{key}={value}"]
    _run([*cmd, "-t", name, str(context)], env={"DOCKER_BUILDKIT": "1"})


def _kafka_context(tmp: Path) -> Path:
    from devstack.kafka import resolve_classpath

    context = tmp / "kafka"
    shutil.copytree(IMAGES_DIR / "kafka", context)
    lib = resolve_classpath()
    (context / "libs").mkdir()
    for jar in sorted(lib.glob("*.jar")):
        shutil.copy(jar, context / "libs" / jar.name)
    return context


@dataclass(frozen=True)
class LocalImage:
    name: str
    folder: str  # under deploy/local/images ("" for the debootstrapped base)
    base: str | None  # the local image it is built on
    base_arg: str = "DEBIAN_IMAGE"


LOCAL_BUILDS = (
    LocalImage(DEBIAN_IMAGE, "", None),
    LocalImage(LOCAL_IMAGES["PYTHON_IMAGE"], "python", DEBIAN_IMAGE),
    LocalImage(JRE_IMAGE, "jre", DEBIAN_IMAGE),
    LocalImage(LOCAL_IMAGES["POSTGRES_IMAGE"], "postgres", DEBIAN_IMAGE),
    LocalImage(LOCAL_IMAGES["KAFKA_IMAGE"], "kafka", JRE_IMAGE, "JRE_IMAGE"),
)


def build_images(*, rebuild: bool = False, say: Callable[[str], None] = _say) -> dict[str, float]:
    """Each local image whose inputs changed (or all, ``rebuild``); seconds per build."""
    from devstack.kafka import POM_PATH

    timings: dict[str, float] = {}
    digests: dict[str, str] = {}
    for image in LOCAL_BUILDS:
        inputs: list[bytes | str | Path] = [CA_BUNDLE]
        if image.base is not None:
            inputs.append(digests[image.base])
        if image.folder:
            inputs.append(IMAGES_DIR / image.folder)
        if image.folder == "kafka":
            inputs.append(POM_PATH)
        digest = digests[image.name] = digest_of(*inputs)
        if not rebuild and image_digest(image.name) == digest:
            continue
        say(f"building {image.name}")
        started = time.monotonic()
        if not image.folder:
            _build_debian(digest)
        else:
            with tempfile.TemporaryDirectory(prefix="context-", dir=cache_dir()) as tmp:
                context = (
                    _kafka_context(Path(tmp))
                    if image.folder == "kafka"
                    else IMAGES_DIR / image.folder
                )
                _build(image.name, context, digest, {image.base_arg: image.base or ""})
        timings[image.name] = time.monotonic() - started
        say(f"built {image.name} in {timings[image.name]:.0f} s")
    return timings


def image_for(var: str, environ: Mapping[str, str] | None = None) -> str:
    """The image of ``var`` (``KAFKA_IMAGE``, ...): what is set wins, else the local
    stand-in when the engine has it, else the official image."""
    environ = os.environ if environ is None else environ
    if environ.get(var):
        return environ[var]
    if engine_answers() and image_digest(LOCAL_IMAGES[var]) is not None:
        return LOCAL_IMAGES[var]
    return OFFICIAL_IMAGES[var]


def images_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every image variable, each as :func:`image_for` gives it."""
    return {var: image_for(var, environ) for var in OFFICIAL_IMAGES}


def up(*, install: bool = True, rebuild: bool = False) -> dict[str, float]:
    """The engine, its plugins and the local images; seconds per step that did work."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    ensure_engine(install=install)
    timings["engine"] = time.monotonic() - started
    started = time.monotonic()
    ensure_plugins()
    timings["plugins"] = time.monotonic() - started
    cache_dir().mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    timings.update(build_images(rebuild=rebuild))
    timings["images"] = time.monotonic() - started
    return timings


# --------------------------------------------------------------------------- CLI
def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    engine = sub.add_parser(
        "engine",
        help="a Docker engine, its compose/buildx plugins and the local base images",
        description="Install and start a Docker engine where none answers, build the "
        "compose and buildx plugins once, and build the local base images and stand-ins "
        "(wentang-local/...). Idempotent.",
    )
    actions = engine.add_subparsers(dest="engine_command", required=True)
    up_parser = actions.add_parser("up", help="engine, plugins, images (what is missing)")
    up_parser.add_argument(
        "--no-install", dest="install", action="store_false", help="never apt-get install"
    )
    up_parser.add_argument("--rebuild", action="store_true", help="rebuild every local image")
    actions.add_parser(
        "env", help='print the image variables for a shell: eval "$(devstack engine env)"'
    )
    actions.add_parser("status", help="whether the engine answers, and the images it has")


def run(args: argparse.Namespace) -> int:
    try:
        if args.engine_command == "up":
            started = time.monotonic()
            timings = up(install=args.install, rebuild=args.rebuild)
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
            _say(f"ready in {time.monotonic() - started:.1f} s ({steps})")
            return 0
        if args.engine_command == "env":
            for var, name in images_env().items():
                print(f"export {var}={name}")
            return 0
        answers = engine_answers()
        print(f"engine: {'answers' if answers else 'does not answer'}")
        if answers:
            for local in LOCAL_BUILDS:
                digest = image_digest(local.name)
                print(f"  {local.name}: {'absent' if digest is None else 'present'}")
        return 0 if answers else 1
    except EngineError as exc:
        _say(f"error: {exc}")
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devstack engine")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(["engine", *(argv or sys.argv[1:])]))


if __name__ == "__main__":
    sys.exit(main())
