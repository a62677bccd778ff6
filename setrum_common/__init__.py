"""Plumbing every Setrum service shares: settings, database, auth, signing, errors, app factory.

Nothing here imports from ``router``, ``subgraphs`` or ``biller``; anything used by one
service only lives in that service.
"""
