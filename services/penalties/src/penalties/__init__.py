"""Penalties: breaches become cases, rectification orders and fines under a schedule that
is policy; an order still open at its deadline escalates by itself."""
