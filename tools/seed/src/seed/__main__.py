"""``python -m seed <service> <command> ...``: a service's tools (see :mod:`seed`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from seed import inspection, penalties, registration

SERVICES = {
    "registration": registration.add_commands,
    "inspection": inspection.add_commands,
    "penalties": penalties.add_commands,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seed", description=__doc__)
    services = parser.add_subparsers(dest="service", required=True)
    for name, add_commands in SERVICES.items():
        add_commands(services.add_parser(name).add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
