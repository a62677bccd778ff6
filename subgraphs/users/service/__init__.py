"""Business rules of the users subgraph, one module per capability.

Every function takes its collaborators (database, password hasher, settings, viewer) explicitly
and raises :class:`~setrum_common.errors.DomainError` with a stable code on bad input.

- :mod:`.inputs`: normalising and checking emails, phone numbers, names and passwords
- :mod:`.accounts`: sign-up and sign-in (throttled per email through the database, :mod:`..throttle`)
- :mod:`.lookup`: reading the customers a viewer may see
- :mod:`.profile`: a customer changing their own profile or password
"""
