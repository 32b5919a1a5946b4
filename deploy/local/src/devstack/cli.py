"""``devstack`` command line: ``devstack run [...]`` starts the local stack, ``devstack engine
up`` a Docker engine and the local images (:mod:`devstack.engine`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devstack import engine
from devstack.stack import Stack, StackError, StackOptions, find_root

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devstack", description="Local infrastructure and the local stack launcher."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="start broker, databases and every service under services/",
        description="Start the broker, the databases and every services/<name>/ "
        "(migrate, serve, wait for /readyz); Ctrl-C stops everything.",
    )
    run.add_argument(
        "--broker",
        default="embedded",
        metavar="embedded|kafka|HOST:PORT",
        help="embedded Tansu (default), a local Apache Kafka, or an existing broker",
    )
    run.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    mode = run.add_mutually_exclusive_group()
    mode.add_argument(
        "--smoke",
        action="store_true",
        help="after readiness run every service's `demo`, stop, exit non-zero on failure",
    )
    mode.add_argument(
        "--seed",
        action="store_true",
        help="after readiness run every service's `demo` once (demo data), keep running",
    )
    run.add_argument("--base-port", type=int, default=8000)
    run.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".stack"),
        help="SQLite files and stack.env (relative to the root; default .stack)",
    )
    run.add_argument("--root", type=Path, default=None, help="repository root (default: search)")
    run.add_argument("--fresh", action="store_true", help="delete the SQLite files first")
    run.add_argument("--ready-timeout", type=float, default=60.0)
    run.add_argument("--smoke-timeout", type=float, default=180.0)
    run.add_argument(
        "--no-restart",
        dest="restart",
        action="store_false",
        help="leave a service that exits stopped (default: start it again, with a backoff)",
    )
    colour = run.add_mutually_exclusive_group()
    colour.add_argument("--colour", dest="colour", action="store_true", default=None)
    colour.add_argument("--no-colour", dest="colour", action="store_false")
    engine.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "engine":
        return engine.run(args)
    if args.command != "run":  # pragma: no cover - argparse enforces the choices
        return 2
    try:
        root = args.root.resolve() if args.root else find_root()
    except StackError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    options = StackOptions(
        root=root,
        broker=args.broker,
        db=args.db,
        smoke=args.smoke,
        seed=args.seed,
        base_port=args.base_port,
        # a smoke run never touches the dev databases: fresh files in <data-dir>/smoke
        data_dir=args.data_dir / "smoke" if args.smoke else args.data_dir,
        fresh=args.fresh or args.smoke,
        ready_timeout=args.ready_timeout,
        smoke_timeout=args.smoke_timeout,
        colour=args.colour,
        restart=args.restart,
    )
    return Stack(options).run()


if __name__ == "__main__":
    sys.exit(main())
