"""A payment provider stand-in modelled on Indonesian gateways: virtual accounts and QRIS.

It keeps its own intents and payments, and tells the merchant (transactions) about each payment with
a signed notification, retried with backoff until the merchant answers (see ``docs/payments.md``).
"""
