"""``python -m setrum_common.trust keygen [--kid ID]``: a fresh router signing key pair.

Prints the router's private key (``ROUTER_SIGNING__KEY``, keep it secret) and the keyring entry
the subgraphs trust (``SETRUM_ROUTER_PUBLIC_KEYS``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .keys import check_kid, generate_private_key, private_key_text, public_key_text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m setrum_common.trust")
    sub = parser.add_subparsers(dest="command", required=True)
    keygen = sub.add_parser("keygen", help="a new Ed25519 router signing key pair")
    keygen.add_argument("--kid", default="router-1", help="key id (rotate by adding a new id)")
    args = parser.parse_args(argv)
    kid = check_kid(args.kid)
    key = generate_private_key()
    print(f"ROUTER_SIGNING__KEY_ID={kid}")
    print(f"ROUTER_SIGNING__KEY={private_key_text(key)}")
    print(f"SETRUM_ROUTER_PUBLIC_KEYS={kid}={public_key_text(key)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
