"""The ``master`` subgraph: meters, tariffs, regions (PPJ), denominations, fees and quotes.

It owns the master data every purchase is priced from and answers inquiries and quotes; it
also contributes ``Customer.meters`` (the meters a customer has saved).
"""
