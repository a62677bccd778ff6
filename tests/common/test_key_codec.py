"""Raw Ed25519 keys as text (setrum_common/trust/codec.py), through the loaders the settings use: router keys
stay padded standard base64 read strictly, service keys unpadded base64url; a bad key is refused with a message
naming the setting, never the key."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from setrum_common.trust import load_private_key, parse_keyring, private_key_text, public_key_text
from setrum_common.trust.keys import KeyConfigError
from setrum_common.trust.service_keys import (
    ServiceKeyError,
    development_key_in_use,
    encode_private_key,
    encode_public_key,
    generate_deployment_keys,
    load_keyring,
)

# RFC 8032 test 1: the seed and the public key it gives.
SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
KEY = Ed25519PrivateKey.from_private_bytes(SEED)


def test_router_keys_are_padded_standard_base64_and_read_back() -> None:
    assert private_key_text(KEY) == "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
    assert public_key_text(KEY) == "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    assert public_key_text(KEY.public_key()) == public_key_text(KEY)
    assert load_private_key(f"  {private_key_text(KEY)}\n").public_key() == KEY.public_key()
    ring = parse_keyring(f"router-1={public_key_text(KEY)}")
    assert list(ring) == ["router-1"] and ring["router-1"] == KEY.public_key()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not base64!", "neither PEM nor base64"),
        ("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A", "neither PEM nor base64"),  # base64url: not a router key
        ("AAAA", "is 32 bytes"),
    ],
)
def test_a_bad_router_signing_key_is_refused_without_showing_it(text: str, message: str) -> None:
    with pytest.raises(KeyConfigError, match=message) as refused:
        load_private_key(text)
    assert text not in str(refused.value)


def test_a_bad_router_public_key_names_its_key_id() -> None:
    with pytest.raises(KeyConfigError, match="'r1' is not a base64 Ed25519 public key"):
        parse_keyring("r1=AAAA")
    with pytest.raises(KeyConfigError, match="'r2' is not a base64 Ed25519 public key"):
        parse_keyring(json.dumps({"r2": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}))


def test_service_keys_are_unpadded_base64url_and_read_back_with_or_without_padding() -> None:
    assert encode_private_key(KEY) == "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
    assert encode_public_key(KEY.public_key()) == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    for private in (encode_private_key(KEY), encode_private_key(KEY) + "="):
        ring = load_keyring("master", private, json.dumps({"transactions": encode_public_key(KEY.public_key())}))
        assert ring.private_key.public_key() == KEY.public_key()
        assert ring.public_key_of("transactions") == KEY.public_key()
    assert ring.public_key_of("biller") is None


def test_generated_deployment_keys_load_and_are_not_development_keys() -> None:
    variables = generate_deployment_keys(("master", "transactions"))
    private, public = variables["SETRUM_MASTER_SERVICE_KEY"], variables["SETRUM_SERVICE_PUBLIC_KEYS"]
    assert "=" not in private and len(private) == 43
    assert development_key_in_use(private, public) is None
    ring = load_keyring("master", private, public)
    assert encode_public_key(ring.private_key.public_key()) == json.loads(public)["master"]


@pytest.mark.parametrize(
    ("private", "message"),
    [("A", "SETRUM_SERVICE_KEY is not base64url"), ("AAAA", "SETRUM_SERVICE_KEY must be 32 bytes")],
)
def test_a_bad_service_key_is_refused_with_the_setting_named(private: str, message: str) -> None:
    with pytest.raises(ServiceKeyError, match=message):
        load_keyring("master", private, None)
    assert development_key_in_use(private, json.dumps({"master": encode_public_key(KEY.public_key())})) == (
        message + (" (base64url)" if "32 bytes" in message else "")
    )
    with pytest.raises(ServiceKeyError, match="the public key of biller must be 32 bytes"):
        load_keyring("master", encode_private_key(KEY), json.dumps({"biller": "AAAA"}))
