"""Penalties' demo district, and its command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
from datetime import UTC, datetime

from penalties.settings import PenaltiesSettings


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo", help="the enforcement loop end to end across registration, inspection, penalties"
    )
    demo.add_argument("--base-url", required=True, help="penalties'")
    for other in ("registration", "inspection"):
        demo.add_argument(
            f"--{other}-url",
            default=os.environ.get(f"DEVSTACK_{other.upper()}_URL"),
            help=f"default: DEVSTACK_{other.upper()}_URL (devstack sets it)",
        )
    demo.set_defaults(run=_demo)
    district = commands.add_parser(
        "district",
        help="the office's side of the cases the other districts opened: order checks, "
        "appeals, cases by hand",
    )
    district.add_argument("--base-url", required=True)
    district.add_argument("--grids", nargs="+", required=True, help="e.g. WT-G01 WT-G02")
    district.add_argument("--seed", type=int, default=1)
    district.set_defaults(run=_district)


def _demo(args: argparse.Namespace) -> int:
    from seed.penalties.demo import DemoFailed, run_demo

    if not (args.registration_url and args.inspection_url):
        print("the penalties demo needs registration and inspection: --registration-url, "
              "--inspection-url")  # fmt: skip
        return 2
    secret = PenaltiesSettings().jwt_secret.get_secret_value()
    try:
        return run_demo(args.base_url, args.registration_url, args.inspection_url, secret)
    except DemoFailed as e:
        print(f"penalties demo failed: {e}")
        return 1


def _district(args: argparse.Namespace) -> int:
    import httpx

    from seed.penalties.district import PenaltiesDistrict

    secret = PenaltiesSettings().jwt_secret.get_secret_value()
    today = datetime.now(UTC).date()

    async def run() -> int:
        async with httpx.AsyncClient(base_url=args.base_url, timeout=60) as http:
            district = PenaltiesDistrict(http, secret, today=today, rng=random.Random(args.seed))
            stats = await district.run(args.grids)
        print(dict(stats.counts), "errors:", dict(stats.errors))
        return 1 if stats.errors else 0

    return asyncio.run(run())
