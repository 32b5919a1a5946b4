"""Shared runtime of the platform's services: nothing domain-specific lives here."""
