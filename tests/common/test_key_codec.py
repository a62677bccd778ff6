"""Ed25519 keys as text (setrum_common/trust/codec.py), through the loaders the settings use: router keys are
printed as padded standard base64, service keys as unpadded base64url, and every loader reads any of PEM, base64
or base64url (padded or not); a bad key is refused with a message naming the setting, never the key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

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


PRIVATE_PEM = KEY.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
PUBLIC_PEM = KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
# Every spelling a deployed value may be in: what each kind of key was read as before the one codec, and the rest.
PRIVATE_FORMS = {
    "base64": "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=",
    "base64 unpadded": "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "base64url": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "base64url padded": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=",
    "pem": PRIVATE_PEM,
}
PUBLIC_FORMS = {
    "base64": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
    "base64 unpadded": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "base64url": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "base64url padded": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
    "pem": PUBLIC_PEM,
}


@pytest.mark.parametrize("form", sorted(PRIVATE_FORMS))
def test_every_loader_reads_a_private_key_in_every_form(form: str) -> None:
    text = PRIVATE_FORMS[form]
    assert load_private_key(f"  {text}\n").public_key() == KEY.public_key()
    assert load_keyring("master", text, None).private_key.public_key() == KEY.public_key()


@pytest.mark.parametrize("form", sorted(PUBLIC_FORMS))
def test_every_loader_reads_a_public_key_in_every_form(form: str) -> None:
    text = PUBLIC_FORMS[form]
    assert parse_keyring(json.dumps({"router-1": text}))["router-1"] == KEY.public_key()
    if form != "pem":  # a PEM holds whitespace, so only the JSON form of a router keyring carries one
        assert parse_keyring(f"router-1={text}, router-2={text}")["router-2"] == KEY.public_key()
    ring = load_keyring("master", encode_private_key(KEY), json.dumps({"transactions": text}))
    assert ring.public_key_of("transactions") == KEY.public_key()


def test_a_private_key_file_is_read_like_the_value(tmp_path: Path) -> None:
    for form, text in PRIVATE_FORMS.items():
        (tmp_path / form).write_text(text + "\n", encoding="utf-8")
        assert load_private_key(file=tmp_path / form).public_key() == KEY.public_key()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not base64!", "the signing key is neither PEM nor base64/base64url"),
        ("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A_", "the signing key is neither PEM nor base64/base64url"),
        ("AAAA", "the signing key must be 32 bytes"),
        ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "not a readable PEM private key"),
        (
            X25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode(),
            "the signing key must be an Ed25519 key",
        ),
    ],
)
def test_a_bad_router_signing_key_is_refused_without_showing_it(text: str, message: str) -> None:
    with pytest.raises(KeyConfigError, match=message) as refused:
        load_private_key(text)
    assert text.strip() not in str(refused.value)


def test_a_bad_router_public_key_names_its_key_id() -> None:
    with pytest.raises(KeyConfigError, match="'r1' must be 32 bytes"):
        parse_keyring("r1=AAAA")
    with pytest.raises(KeyConfigError, match="'r2' is neither PEM nor base64/base64url"):
        parse_keyring(json.dumps({"r2": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo!"}))
    with pytest.raises(KeyConfigError, match="'r3' is not a readable PEM public key"):
        parse_keyring(json.dumps({"r3": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}))


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
    [
        ("A", "SETRUM_SERVICE_KEY is neither PEM nor base64/base64url"),
        ("AAAA", "SETRUM_SERVICE_KEY must be 32 bytes (a private key's seed or the public key), not 3"),
    ],
)
def test_a_bad_service_key_is_refused_with_the_setting_named(private: str, message: str) -> None:
    with pytest.raises(ServiceKeyError, match=re.escape(message)):
        load_keyring("master", private, None)
    assert development_key_in_use(private, json.dumps({"master": encode_public_key(KEY.public_key())})) == message
    with pytest.raises(ServiceKeyError, match="the public key of biller must be 32 bytes"):
        load_keyring("master", encode_private_key(KEY), json.dumps({"biller": "AAAA"}))
