"""The transactions subgraph: the customer's wallet (a ledger) and token purchases.

It owns ``Purchase`` and contributes ``Customer.wallet``, ``Customer.purchases``,
``Meter.purchases`` and ``Meter.monthlyUsage``. Prices come from master's binding quote;
tokens come from the biller.
"""
