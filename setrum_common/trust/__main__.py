"""Key generation for deployments.

``python -m setrum_common.trust keygen [--kid ID]``: a fresh router signing key pair: the router's
private key (``ROUTER_SIGNING__KEY``, keep it secret) and the keyring entry the subgraphs trust
(``SETRUM_ROUTER_PUBLIC_KEYS``).
``python -m setrum_common.trust token-key``: an Ed25519 private key in PEM for users to sign customer
tokens with (``USERS_TOKEN_SIGNING_KEY_FILE``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cryptography.hazmat.primitives import serialization

from .keys import check_kid, generate_private_key, private_key_text, public_key_text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m setrum_common.trust")
    sub = parser.add_subparsers(dest="command", required=True)
    keygen = sub.add_parser("keygen", help="a new Ed25519 router signing key pair")
    keygen.add_argument("--kid", default="router-1", help="key id (rotate by adding a new id)")
    sub.add_parser("token-key", help="an Ed25519 PEM private key for users' customer tokens")
    args = parser.parse_args(argv)
    if args.command == "token-key":
        pem = generate_private_key().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        print(pem.decode(), end="")
        return 0
    kid = check_kid(args.kid)
    key = generate_private_key()
    print(f"ROUTER_SIGNING__KEY_ID={kid}")
    print(f"ROUTER_SIGNING__KEY={private_key_text(key)}")
    print(f"SETRUM_ROUTER_PUBLIC_KEYS={kid}={public_key_text(key)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
