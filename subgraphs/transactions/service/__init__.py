"""Business rules of the transactions subgraph, one module per capability.

- :mod:`.dependencies`: what the flows need besides the database (clients, settings, metrics)
- :mod:`.inputs`: checks on references, rupiah amounts, months and who may own a wallet
- :mod:`.wallets`: balance and top-ups
- :mod:`.lookup`: reading the purchases a viewer may see
- :mod:`.purchases`: buying a token and settling it with the biller
- :mod:`.refunds`: giving a purchase back (a biller failure or an admin reversal)
- :mod:`.reconciliation`: proving the wallets and usage counters add up
- :mod:`.management`: STS management tokens (admin)
"""
