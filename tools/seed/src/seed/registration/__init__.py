"""Registration's demo check and demo district, and their command lines."""

from __future__ import annotations

import argparse

from registration.settings import RegistrationSettings
from seed import district_scale


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo", help="drive one declaration end to end against a running API"
    )
    demo.add_argument("--base-url", required=True)
    demo.set_defaults(run=_demo)
    district = commands.add_parser("district", help="create the demo district through the HTTP API")
    district.add_argument("--base-url", required=True)
    district.add_argument("--scale", type=float, default=1.0, help="of DOMAIN.md's figures")
    district.add_argument("--seed", type=int, default=1)
    district.add_argument("--concurrency", type=int, default=32)
    district.set_defaults(run=_district)


def _secret() -> str:
    """The service's JWT secret, from its environment (REGISTRATION_JWT_SECRET)."""
    return RegistrationSettings().jwt_secret.get_secret_value()


def _demo(args: argparse.Namespace) -> int:
    from seed.registration.demo import run_demo

    code = run_demo(args.base_url, _secret())
    # `make run` seeds a small district after the end-to-end check (see Makefile).
    scale = district_scale()
    if code == 0 and scale > 0:
        from seed.registration.district import run_district

        code = run_district(args.base_url, _secret(), scale=scale)
    return code


def _district(args: argparse.Namespace) -> int:
    from seed.registration.district import run_district

    return run_district(
        args.base_url, _secret(), scale=args.scale, seed=args.seed, concurrency=args.concurrency
    )
