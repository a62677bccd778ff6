"""Business rules of the master subgraph, one module per capability.

Functions take the :class:`~setrum_common.db.Database` and the caller (:class:`Viewer`), open
their own transaction, and raise :class:`DomainError` with a client-facing code. Times are
explicit (``at``) so a quote is priced with the tariff in effect at the quote time.

- :mod:`.inputs`: checks on customer numbers, money, rates and codes an admin or a caller sends
- :mod:`.lookup`: looking a meter up by meter number or IDPEL
- :mod:`.quotes`: the binding price breakdown of a token purchase
- :mod:`.saved_meters`: a customer's bookmarked meters
- :mod:`.upkeep`: master-data upkeep (tariffs, regions, denominations, channels, stamp duty, meters)
"""
