"""Penalties' demo district, and its command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
from datetime import UTC, datetime

from penalties.settings import PenaltiesSettings
from seed import district_scale, settled
from seed.registration.district import grid_ids


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
        code = run_demo(args.base_url, args.registration_url, args.inspection_url, secret)
    except DemoFailed as e:
        print(f"penalties demo failed: {e}")
        return 1
    if code == 0 and district_scale() > 0:  # `make run`: the cases the districts opened
        code = _seed_district(args.base_url, secret, grid_ids(district_scale()))
    return code


def _seed_district(base_url: str, secret: str, grids: list[str]) -> int:
    import httpx

    from common.auth import mint_token
    from seed.penalties.district import PenaltiesDistrict

    token = mint_token(secret, sub="seed", role="officer", grids=grids, scopes=["penalties:read"])
    headers = {"Authorization": f"Bearer {token}"}

    def cases() -> list[int]:
        return [
            len(httpx.get(f"{base_url}/cases?grid_id={g}&limit=1000", headers=headers,
                          timeout=10).json().get("cases", []))
            for g in grids
        ]  # fmt: skip

    if not settled(cases, quiet_s=5.0):
        print("penalties kept opening cases; seeding the district anyway")
    today = datetime.now(UTC).date()

    async def run() -> int:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            district = PenaltiesDistrict(http, secret, today=today, rng=random.Random(1))
            stats = await district.run(grids)
        print("penalties district:", dict(stats.counts), "errors:", dict(stats.errors))
        return 1 if stats.errors else 0

    code = asyncio.run(run())
    month = today.strftime("%Y-%m")
    figures = httpx.get(f"{base_url}/figures?month={month}", headers=headers, timeout=10).json()
    shown = ("ordered_to_rectify", "orders", "penalised", "fines", "fined_yuan", "warnings")
    print(f"penalties figures {month}:", {k: figures.get(k) for k in shown})
    return code


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
