"""Penalties' readers of other contexts' events, one module per context."""
