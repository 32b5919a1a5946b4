"""Tools that drive the platform through its public APIs, outside the service images.

``python -m seed <service> demo --base-url URL`` checks one round trip end to end (what
devstack's ``--smoke`` and ``--seed`` run); ``python -m seed registration district`` builds
the demo district. Each service's tools are the package ``seed.<service>``.
"""
