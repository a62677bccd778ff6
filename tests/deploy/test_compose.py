"""compose.yaml and the Dockerfile agree with the code (no Docker engine runs here, so we read them).

Everything is derived from the code: the services and their settings classes from
``setrum.settings_doc.SERVICES``, variable names from each class' ``env_prefix``/aliases,
ports from the settings the compose environment produces, packages from pyproject.toml.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import secrets
import shlex
import tomllib
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import urlsplit

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url

from biller.settings import DEV_VENDING_KEY
from setrum.settings_doc import SERVICES
from setrum_common import settings as common_settings
from setrum_common.migrations import Migrations
from setrum_common.trust import generate_private_key, private_key_text, public_key_text
from setrum_common.trust.service_keys import generate_deployment_keys

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENV_EXAMPLE = dict(
    line.split("=", 1)
    for line in (ROOT / ".env.example").read_text().splitlines()
    if line.strip() and not line.lstrip().startswith("#")
)
DEV_SECRETS = {common_settings.DEV_JWT_SECRET, common_settings.DEV_PAYMENTS_SECRET, DEV_VENDING_KEY}
_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")

APP_SERVICES = sorted(SERVICES)


def _settings_class(service: str) -> type[BaseSettings]:
    module, _, name = SERVICES[service].partition(":")
    return getattr(importlib.import_module(module), name)


def _alias_names(info: Any) -> list[str]:
    alias = info.validation_alias
    if isinstance(alias, str):
        return [alias]
    return [str(c) for c in getattr(alias, "choices", ()) if isinstance(c, str)]


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_mapping(annotation: Any) -> bool:
    return typing.get_origin(annotation) is dict


def _env_names(settings_class: type[BaseSettings]) -> tuple[set[str], set[str]]:
    """(exact variable names, prefixes of dict-valued variables like ``ROUTER_SUBGRAPHS__URLS__``)."""
    prefix = str(settings_class.model_config.get("env_prefix", "")).upper()
    delimiter = str(settings_class.model_config.get("env_nested_delimiter") or "__")
    exact: set[str] = set()
    open_prefixes: set[str] = set()

    def walk(model: type[BaseModel], env_prefix: str, top: bool) -> None:
        for name, info in model.model_fields.items():
            names = (_alias_names(info) or [f"{env_prefix}{name}"]) if top else [f"{env_prefix}{name}"]
            for env in (n.upper() for n in names):
                if _is_model(info.annotation):
                    walk(info.annotation, f"{env}{delimiter}", False)
                else:
                    exact.add(env)
                    if _is_mapping(info.annotation):
                        open_prefixes.add(f"{env}{delimiter}")

    walk(settings_class, prefix, True)
    return exact, open_prefixes


def _interpolate(value: str, values: dict[str, str]) -> str:
    return _INTERPOLATION.sub(lambda m: values[m.group(1)], value)


def _interpolated_names(value: str) -> set[str]:
    return {m.group(1) for m in _INTERPOLATION.finditer(value)}


def _strong_values() -> dict[str, str]:
    keys = generate_deployment_keys()  # each service's own key must be a real Ed25519 key
    values = {name: keys.get(name) or secrets.token_urlsafe(48) for name in ENV_EXAMPLE}
    key = generate_private_key()  # what `python -m setrum_common.trust keygen` prints
    values.update(USERS_TOKEN_SIGNING_KEY_ID="users-1", SETRUM_ROUTER_PUBLIC_KEYS=f"router-1={public_key_text(key)}")
    return values


def _environment(service: str) -> dict[str, str]:
    env = COMPOSE["services"][service].get("environment", {})
    assert isinstance(env, dict), f"{service}: use the mapping form of environment"
    return {str(k): str(v) for k, v in env.items()}


def _container_port(service: str) -> int:
    spec = COMPOSE["services"][service]
    ports = [str(p).rsplit(":", 1)[-1] for p in spec.get("ports", [])] + [str(p) for p in spec.get("expose", [])]
    assert ports, f"{service} exposes no port"
    assert len(set(ports)) == 1, f"{service} exposes several container ports: {ports}"
    return int(ports[0])


def _health_url(service: str) -> str:
    test = COMPOSE["services"][service]["healthcheck"]["test"]
    found = re.search(r"https?://[^'\"\s)]+", " ".join(test))
    assert found, f"{service}: healthcheck calls no URL"
    return found.group(0)


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No variable of ours from the test machine leaks into the settings under test."""
    import os

    prefixes = ("SETRUM_", *(str(_settings_class(s).model_config.get("env_prefix", "")).upper() for s in SERVICES))
    for name in list(os.environ):
        if name.upper().startswith(prefixes):
            monkeypatch.delenv(name)
    return monkeypatch


_SECRET_FILES = {
    "router_signing_key": private_key_text(generate_private_key()),
    "users_token_key": generate_private_key()
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode(),
}


def _settings_under_compose(
    service: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, values: dict[str, str]
) -> BaseSettings:
    for name, value in _environment(service).items():
        value = _interpolate(value, values)
        if value.startswith("/run/secrets/"):
            # The compose secret holds a real key in production; here a valid non-development one.
            secret_file = tmp_path / Path(value).name
            secret_file.write_text(_SECRET_FILES.get(secret_file.name, "0123456789ABCDEF\n"))
            value = str(secret_file)
        monkeypatch.setenv(name, value)
    return _settings_class(service)()


# ---------------------------------------------------------------------------------------- services


def test_every_service_the_code_defines_is_in_compose() -> None:
    assert set(APP_SERVICES) <= set(COMPOSE["services"])
    extra = set(COMPOSE["services"]) - set(APP_SERVICES)
    assert extra == {"postgres"}, f"services compose runs that the code does not define: {extra}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_environment_variables_are_real_settings(service: str) -> None:
    exact, open_prefixes = _env_names(_settings_class(service))
    for name in _environment(service):
        upper = name.upper()
        assert upper in exact or upper.startswith(tuple(open_prefixes)), (
            f"{service}: {name} is not a setting of {SERVICES[service]}"
        )


@pytest.mark.parametrize("service", APP_SERVICES)
def test_compose_environment_builds_valid_production_settings(
    service: str, clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings: Any = _settings_under_compose(service, clean_environment, tmp_path, _strong_values())

    assert getattr(settings, "environment", getattr(settings, "env", None)) == "production"
    assert settings.host == "0.0.0.0"
    assert settings.port == _container_port(service)
    if service == "router":
        assert settings.graphiql_enabled is False and settings.introspection_enabled is False
        assert (ROOT / settings.supergraph).is_file()
    else:
        assert settings.schema_mode in ("migrate", "check")
        url = make_url(settings.database_url)
        assert (url.drivername, url.host) == ("postgresql+asyncpg", "postgres")


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_example_secrets_are_refused_in_production(
    service: str, clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # .env.example holds placeholders; deploying it unchanged must fail at start-up.
    if not any(n in ENV_EXAMPLE for n in _interpolated_names(" ".join(_environment(service).values()))
               if n != "POSTGRES_PASSWORD"):  # fmt: skip
        pytest.skip(f"{service} holds no secret")
    with pytest.raises((ValidationError, ValueError)):
        _settings_under_compose(service, clean_environment, tmp_path, dict(ENV_EXAMPLE))


@pytest.mark.parametrize("service", APP_SERVICES)
def test_command_runs_the_service_module(service: str) -> None:
    command = COMPOSE["services"][service]["command"]
    if isinstance(command, str):
        command = shlex.split(command)
    assert command[:2] == ["python", "-m"]
    module = command[2]
    assert importlib.util.find_spec(module) is not None, f"{service}: no module {module}"
    assert importlib.util.find_spec(f"{module}.__main__") is not None, f"{service}: {module} is not runnable"
    assert module.rsplit(".", 1)[-1] == service


@pytest.mark.parametrize("service", APP_SERVICES)
def test_healthcheck_probes_the_service_port(
    service: str, clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spec = COMPOSE["services"][service]
    url = urlsplit(_health_url(service))
    assert url.hostname in ("127.0.0.1", "localhost")
    assert url.port == _container_port(service)
    assert url.path in ("/ready", "/health")
    assert spec["restart"] == "unless-stopped"
    assert spec["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    # the probe path is a real route of the app
    settings = _settings_under_compose(service, clean_environment, tmp_path, _strong_values())
    app = _app(service, settings)
    assert url.path in {getattr(r, "path", None) for r in app.routes}


def _app(service: str, settings: Any) -> Any:
    if service == "router":
        from router.app import create_app

        return create_app(settings)
    return importlib.import_module(f"{_package(service)}.app").create_app(settings)


def _package(service: str) -> str:
    """The biller and the payment provider are services of their own, beside the subgraphs."""
    return service if service in ("biller", "payments") else f"subgraphs.{service}"


def test_dependencies_wait_for_healthy_services() -> None:
    services = COMPOSE["services"]
    for name, spec in services.items():
        for dependency, condition in (spec.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"
            assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"
    for service in APP_SERVICES:
        if service != "router":
            assert "postgres" in services[service]["depends_on"]


def test_service_urls_point_at_compose_services() -> None:
    services = COMPOSE["services"]
    supergraph = (ROOT / "schema" / "supergraph.graphql").read_text()
    graphs = set(re.findall(r'@join__graph\(name: "([^"]+)"', supergraph))
    router_env = _environment("router")
    overridden = {k.split("__")[-1] for k in router_env if k.upper().startswith("ROUTER_SUBGRAPHS__URLS__")}
    assert overridden == graphs, "the router needs a URL for every subgraph of the supergraph"
    urls = [v for k, v in router_env.items() if k.upper().startswith("ROUTER_SUBGRAPHS__URLS__")]
    urls += [v for k, v in _environment("transactions").items() if k.endswith("_URL") and "DATABASE" not in k]
    for url in urls:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.hostname in services, url
        assert parts.port == _container_port(parts.hostname), url
        depends = (
            services["router"]["depends_on"] if url in router_env.values() else services["transactions"]["depends_on"]
        )
        assert parts.hostname in depends


def test_router_runs_replicas_on_a_port_range() -> None:
    router = COMPOSE["services"]["router"]
    replicas = router["deploy"]["replicas"]
    assert replicas >= 2
    published = str(router["ports"][0]).rsplit(":", 1)[0]
    low, _, high = published.partition("-")
    assert int(high or low) - int(low) + 1 == replicas, "one host port per router replica"


# ---------------------------------------------------------------------------------------- database


def test_databases_exist_and_every_database_service_has_migrations() -> None:
    postgres = COMPOSE["services"]["postgres"]
    assert postgres["image"].startswith("postgres:16")
    init = [v for v in postgres["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert init, "no init script"
    source = ROOT / init[0].split(":", 1)[0]
    created = set(re.findall(r"CREATE DATABASE\s+\"?(\w+)\"?", source.read_text(), re.IGNORECASE))
    named_volume = postgres["volumes"][0].split(":", 1)[0]
    assert named_volume in COMPOSE["volumes"], "PostgreSQL data must live on a named volume"
    user = postgres["environment"]["POSTGRES_USER"]
    for service in APP_SERVICES:
        url_var = [v for k, v in _environment(service).items() if k.endswith("_DATABASE_URL")]
        if service == "router":
            assert not url_var
            continue
        url = make_url(_interpolate(url_var[0], _strong_values()))
        assert url.database in created and url.username == user
        package = _package(service)
        assert (Migrations.of_package(package).directory / "env.py").is_file(), f"{service} has no migrations"


# ---------------------------------------------------------------------------------------- secrets


def test_secrets_come_from_env_file_or_secret_files_never_inline() -> None:
    used: set[str] = set()
    for name, spec in COMPOSE["services"].items():
        settings_class = _settings_class(name) if name in SERVICES else None
        secret_fields = set()
        if settings_class is not None:
            for field, info in settings_class.model_fields.items():
                if info.annotation in (SecretStr, SecretStr | None):
                    secret_fields |= {n.upper() for n in _alias_names(info)} or {
                        f"{settings_class.model_config.get('env_prefix', '')}{field}".upper()
                    }
        for key, value in (spec.get("environment") or {}).items():
            value = str(value)
            used |= _interpolated_names(value)
            if key.upper() in secret_fields or "PASSWORD" in key.upper():
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value), (
                    f"{name}: {key} must come from .env (${{{key}:?…}})"
                )
            assert value not in DEV_SECRETS, f"{name}: {key} is a development secret"
        for secret in spec.get("secrets", []):
            assert secret in COMPOSE["secrets"]
            target = f"/run/secrets/{secret}"
            assert target in {str(v) for v in (spec.get("environment") or {}).values()}, (
                f"{secret} is mounted but unused"
            )
    assert used == set(ENV_EXAMPLE), ".env.example must list exactly the variables compose.yaml interpolates"
    for name, value in ENV_EXAMPLE.items():
        assert value not in DEV_SECRETS and len(value) < 32, f".env.example {name} must be a placeholder"
    for secret in COMPOSE["secrets"].values():
        path = ROOT / secret["file"]
        assert path.parent.is_dir() and (path.parent / "README.md").is_file()
        assert not path.exists() or not _tracked(path), "secret files must never be committed"
    assert {".env", "deploy/secrets"} <= _dockerignore()


def _dockerignore() -> set[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def _tracked(path: Path) -> bool:
    import subprocess

    result = subprocess.run(["git", "ls-files", "--error-unmatch", str(path)], cwd=ROOT, capture_output=True)
    return result.returncode == 0


# ---------------------------------------------------------------------------------------- Dockerfile


def _dockerfile_instructions() -> Iterator[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            yield keyword.upper(), rest.strip()


def test_dockerfile_copies_existing_paths_and_every_package() -> None:
    instructions = list(_dockerfile_instructions())
    stages = [rest.split() for keyword, rest in instructions if keyword == "FROM"]
    assert stages[-1] == ["python:3.11-slim"], "the image that runs is the Python one"
    stage_names = {s[2] for s in stages if len(s) == 3 and s[1].upper() == "AS"}
    copied: set[str] = set()
    for keyword, rest in instructions:
        if keyword == "COPY":
            if rest.startswith("--from="):
                # A build stage's output (the web app built with Node): the stage must exist.
                assert rest.split()[0].removeprefix("--from=") in stage_names, rest
                continue
            *sources, _dest = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such path"
                copied.add(source.rstrip("/"))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
        assert pattern.rstrip("*") in copied, f"the image lacks package {pattern}"
    assert "schema" in copied  # the router's supergraph
    assert not copied & _dockerignore()


def test_dockerfile_runs_as_non_root_with_the_router_by_default() -> None:
    instructions = list(_dockerfile_instructions())
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    cmd = [rest for keyword, rest in instructions if keyword == "CMD"][-1]
    import json

    command = json.loads(cmd)
    assert command[:3] == ["python", "-m", "router"]
    assert importlib.util.find_spec(command[2]) is not None
    from router.__main__ import _parser

    _parser().parse_args(command[3:])  # a real subcommand


def test_dockerfile_environment_names_are_settings() -> None:
    known: set[str] = set()
    for service in SERVICES:
        known |= _env_names(_settings_class(service))[0]
    for keyword, rest in _dockerfile_instructions():
        if keyword == "ENV":
            for name in re.findall(r"([A-Z_][A-Z0-9_]*)=", rest):
                if name.startswith(("PYTHON", "PIP_")):
                    continue
                assert name in known, f"Dockerfile ENV {name} is no setting"


def test_the_image_serves_the_built_web_app() -> None:
    """The node stage builds web/ and the router finds the result where ROUTER_WEB_APP_DIR says."""
    instructions = list(_dockerfile_instructions())
    workdir = [rest for keyword, rest in instructions if keyword == "WORKDIR"][-1]
    copies = [rest.split() for keyword, rest in instructions if keyword == "COPY" and rest.startswith("--from=web")]
    assert copies, "the image does not copy the built web app"
    _, source, dest = copies[0]
    assert source.endswith("/dist")
    env = " ".join(rest for keyword, rest in instructions if keyword == "ENV")
    served = re.search(r"ROUTER_WEB_APP_DIR=(\S+)", env)
    assert served is not None
    assert Path(served.group(1)) == Path(workdir) / dest
    assert "npm ci" in DOCKERFILE and "npm run build" in DOCKERFILE
