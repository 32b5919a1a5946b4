"""Inspection's demo district, and its command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
from datetime import UTC, datetime

from inspection.settings import InspectionSettings
from seed import district_scale, settled
from seed.registration.district import grid_ids


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo", help="a spot-check end to end across registration and inspection"
    )
    demo.add_argument("--base-url", required=True, help="inspection's")
    demo.add_argument(
        "--registration-url",
        default=os.environ.get("DEVSTACK_REGISTRATION_URL"),
        help="default: DEVSTACK_REGISTRATION_URL (devstack sets it)",
    )
    demo.set_defaults(run=_demo)
    district = commands.add_parser(
        "district",
        help="plans, visits, verifications and sweeps over the grids registration seeded",
    )
    district.add_argument("--base-url", required=True)
    district.add_argument("--grids", nargs="+", required=True, help="e.g. WT-G01 WT-G02")
    district.add_argument("--months", type=int, default=6)
    district.add_argument("--seed", type=int, default=1)
    district.set_defaults(run=_district)


def _demo(args: argparse.Namespace) -> int:
    from seed.inspection.demo import run_demo

    if not args.registration_url:
        print("the inspection demo needs registration: --registration-url")
        return 2
    secret = InspectionSettings().jwt_secret.get_secret_value()
    code = run_demo(args.base_url, args.registration_url, secret)
    if code == 0 and district_scale() > 0:  # `make run`: the district registration seeded
        code = _seed_district(args.base_url, secret, grid_ids(district_scale()))
    return code


def _seed_district(base_url: str, secret: str, grids: list[str]) -> int:
    import httpx

    from common.auth import mint_token
    from seed.inspection.district import InspectionDistrict, last_months

    token = mint_token(secret, sub="seed", role="officer", grids=grids, scopes=["inspection:read"])

    def buildings() -> list[int]:
        headers = {"Authorization": f"Bearer {token}"}
        return [
            len(httpx.get(f"{base_url}/grids/{g}/properties?limit=1000", headers=headers,
                          timeout=10).json().get("properties", []))
            for g in grids
        ]  # fmt: skip

    if not settled(buildings):
        print("inspection's registry kept changing; seeding the district anyway")
    today = datetime.now(UTC).date()

    async def run() -> int:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            district = InspectionDistrict(http, secret, today=today, rng=random.Random(1))
            stats = await district.run(grids, last_months(today, 6))
        print("inspection district:", dict(stats.counts), "errors:", dict(stats.errors))
        return 1 if stats.errors else 0

    return asyncio.run(run())


def _district(args: argparse.Namespace) -> int:
    import httpx

    from seed.inspection.district import InspectionDistrict, last_months

    secret = InspectionSettings().jwt_secret.get_secret_value()
    today = datetime.now(UTC).date()

    async def run() -> int:
        async with httpx.AsyncClient(base_url=args.base_url, timeout=60) as http:
            district = InspectionDistrict(http, secret, today=today, rng=random.Random(args.seed))
            stats = await district.run(args.grids, last_months(today, args.months))
        print(dict(stats.counts), "errors:", dict(stats.errors))
        return 1 if stats.errors else 0

    return asyncio.run(run())
