"""``python -m payments [--host H] [--port P]``: serve the payment provider stand-in.

``python -m payments pay <VA number | QRIS payload | intent id> [--url URL]``: pay an intent as the
payer's bank would (development: the provider's simulator must be enabled), then print what the
provider knows, including whether transactions accepted the notification.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _pay(handle: str, url: str, amount: int | None) -> int:
    import httpx

    payload: dict[str, object] = {"handle": handle}
    if amount is not None:
        payload["amount"] = str(amount)
    try:
        response = httpx.post(url.rstrip("/") + "/v1/simulator/pay", json=payload, timeout=30)
    except httpx.HTTPError as error:
        print(f"payments: cannot reach {url}: {error}", file=sys.stderr)
        return 1
    data = response.json()
    if response.status_code != 200:
        print(f"payments: refused: {data.get('code')}: {data.get('message')}", file=sys.stderr)
        return 1
    payment = data.get("payment") or {}
    print(f"paid Rp {data['amount']} for intent {data['id']} ({data['method']}); payment {payment.get('id')}")
    print(f"notification to the merchant: {payment.get('notifyState')} ({payment.get('lastAnswer') or 'queued'})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m payments", description="the payment provider stand-in")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    commands = parser.add_subparsers(dest="command")
    pay = commands.add_parser("pay", help="pay an intent as the payer's bank would (simulator)")
    pay.add_argument("handle", help="VA number, QRIS payload or intent id")
    pay.add_argument("--url", default=os.environ.get("SETRUM_PAYMENTS_URL", "http://127.0.0.1:4020"))
    pay.add_argument("--amount", type=int, help="the amount paid (default: exactly what the bill asks)")
    args = parser.parse_args(argv)
    if args.command == "pay":
        return _pay(args.handle, args.url, args.amount)

    from setrum_common.service_app import load_settings, serve

    from .app import create_app
    from .settings import PaymentsSettings

    settings = load_settings("payments", PaymentsSettings)
    if settings is None:
        return 2
    return serve("payments", settings, create_app, host=args.host, port=args.port)


if __name__ == "__main__":
    sys.exit(main())
