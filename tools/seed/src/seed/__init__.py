"""Tools that drive the platform through its public APIs, outside the service images.

``python -m seed <service> demo --base-url URL`` checks one round trip end to end (what
devstack's ``--smoke`` and ``--seed`` run); ``python -m seed registration district`` builds
the demo district. Each service's tools are the package ``seed.<service>``.

``make run`` seeds the district in every service: registration's demo builds it when
``REGISTRATION_DEMO_DISTRICT_SCALE`` is set, and the demos of the services that read it
(run after registration's, in port order) then add their share in its grids.
"""

import os
import time
from collections.abc import Callable


def district_scale() -> float:
    """The scale of the district ``make run`` seeds (0: none)."""
    return float(os.environ.get("REGISTRATION_DEMO_DISTRICT_SCALE") or 0)


def settled(probe: Callable[[], object], *, quiet_s: float = 3.0, timeout_s: float = 120.0) -> bool:
    """Poll ``probe`` until its answer stays the same for ``quiet_s`` (another service has
    caught up with the events a district made); False if it still moved at ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last, since = probe(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = probe()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return True
    return False
