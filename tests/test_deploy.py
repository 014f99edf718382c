"""deploy/: the docker compose file and the Kubernetes manifests parse, every variable they give the nodes is a
setting core/settings.py reads, parsed as a node parses it, with a cluster's shape (PostgreSQL and Redis, no
tracker cache, the action server on loopback, secrets only by reference), and the proxy reaches the nodes' ports."""
import ipaddress
import re
from dataclasses import fields
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from core.settings import AREAS, Settings
from motcua.runner import endpoints_config

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
KNOWN = {f.metadata["env"] for kind in AREAS.values() for f in fields(kind) if f.metadata.get("env")}
PASSWORDS = {"POSTGRES_PASSWORD", "REDIS_PASSWORD"}  # only ever inside the URLs below
SECRETS = {"MOTCUA_ACTION_SECRET", "MOTCUA_DOSSIER_HASH_KEY", "MOTCUA_RASA_API_TOKEN", "MOTCUA_ONESTOP_API_TOKEN",
           "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "ZALO_OA_SECRET_KEY", "ZALO_ACCESS_TOKEN",
           "ZALO_REFRESH_TOKEN", "ZALO_APP_SECRET", *PASSWORDS}
NODES = ("node1", "node2")


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yml").read_text())


def manifests() -> List[dict]:
    return [d for name in ("motcua.yml", "data.yml") for d in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text())]


def kind(name: str) -> List[dict]:
    return [d for d in manifests() if d["kind"] == name]


def interpolate(value: str) -> str:
    """Compose's ${NAME:?message}, ${NAME:-default} and ${NAME} as an operator's .env would fill them."""
    def fill(match: re.Match) -> str:
        name, op, rest = match.group(1), match.group(2) or "", match.group(3) or ""
        return rest if op == ":-" else f"s3cret-{name}"
    return re.sub(r"\$\{(\w+)(:[?-])?([^}]*)\}", fill, value)


def compose_env(service: str) -> Dict[str, str]:
    return {k: interpolate(str(v)) for k, v in compose()["services"][service]["environment"].items()}


def pod_env(container: dict) -> Dict[str, str]:
    """A container's environment as Kubernetes builds it: the config map, then env in order ($(VAR) expanded)."""
    maps = {d["metadata"]["name"]: d["data"] for d in kind("ConfigMap")}
    env = {k: str(v) for ref in container.get("envFrom", []) for k, v in maps[ref["configMapRef"]["name"]].items()}
    for item in container.get("env", []):
        if "valueFrom" in item:
            env[item["name"]] = f"s3cret-{item['valueFrom']['secretKeyRef']['key']}"
        else:
            env[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], str(item["value"]))
    return env


def node_container(name: str = "motcua-node") -> dict:
    deployment = next(d for d in kind("Deployment") if d["metadata"]["name"] == name)
    return deployment["spec"]["template"]["spec"]["containers"][0]


def node_envs() -> Dict[str, Dict[str, str]]:
    envs = {f"compose {s}": compose_env(s) for s in (*NODES, "migrate")}
    envs["k8s node"] = pod_env(node_container())
    envs["k8s migrate"] = pod_env(kind("Job")[0]["spec"]["template"]["spec"]["containers"][0])
    return envs


@pytest.mark.parametrize("where", list(node_envs()))
def test_a_node_reads_every_variable_and_gets_a_cluster(where):
    env = node_envs()[where]
    assert set(env) - KNOWN - PASSWORDS == set(), "a variable no setting reads (a typo, or a removed setting)"
    settings = Settings.from_env(env)
    assert settings.servers.tracker_store_url.startswith("postgresql://")
    assert settings.storage.database_url.startswith("postgresql://")
    assert settings.servers.lock_store_url and settings.servers.lock_store_url.startswith("redis://")
    assert settings.servers.tracker_cache == 0  # several Rasa servers share one tracker database
    assert settings.servers.actions_host == "127.0.0.1" and settings.servers.host == "0.0.0.0"
    assert not settings.servers.rest_channel  # any caller could speak as any sender
    assert settings.servers.action_secret == "s3cret-MOTCUA_ACTION_SECRET"
    assert settings.dossiers.dossier_hash_key == "s3cret-MOTCUA_DOSSIER_HASH_KEY"  # one key on every node
    endpoints = endpoints_config(settings)
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert endpoints["tracker_store"]["password"] == "s3cret-POSTGRES_PASSWORD"
    assert endpoints["lock_store"]["type"] == "redis" and endpoints["lock_store"]["password"] == "s3cret-REDIS_PASSWORD"


def test_every_node_is_configured_alike():
    envs = node_envs()
    assert envs["compose node1"] == envs["compose node2"] == envs["compose migrate"]
    assert envs["k8s node"] == envs["k8s migrate"]
    assert set(envs["compose node1"]) == set(envs["k8s node"]) - PASSWORDS  # compose fills them into the URLs
    differ = {k for k in envs["compose node1"] if envs["compose node1"][k] != envs["k8s node"][k]} - SECRETS
    assert differ <= {"MOTCUA_TRACKER_STORE_URL", "MOTCUA_DATABASE_URL", "MOTCUA_LOCK_STORE_URL",  # host names
                      "MOTCUA_TRUSTED_PROXIES", "MOTCUA_PUBLIC_URL", "MOTCUA_CONSOLE_PUBLIC_URL", "MOTCUA_WEB_ORIGINS"}


def test_secrets_are_only_referenced():
    for service, spec in compose()["services"].items():
        for name, raw in (spec.get("environment") or {}).items():
            raw = str(raw)
            if name in SECRETS:
                assert raw.startswith("${"), f"{service}: {name} written in the file"
            for password in re.findall(r"://[^:/@]*:([^@]+)@", raw):
                assert password.startswith("${"), f"{service}: a password written in {name}"
    for doc in manifests():
        for container in doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            for item in container.get("env", []):
                if item["name"] in SECRETS:
                    assert "secretKeyRef" in item.get("valueFrom", {}), f"{item['name']} written in a manifest"
                for password in re.findall(r"://[^:/@]*:([^@]+)@", str(item.get("value", ""))):
                    assert password.startswith("$("), f"a password written in {item['name']}"
    for doc in kind("ConfigMap"):
        assert not set(doc["data"]) & SECRETS


def test_only_the_proxy_is_reachable_and_the_action_server_never():
    services = compose()["services"]
    assert [s for s, spec in services.items() if spec.get("ports")] == ["proxy"]
    settings = Settings.from_env(pod_env(node_container()))
    ports = {p["port"] for p in kind("Service")[0]["spec"]["ports"]}
    assert ports == {settings.servers.rasa_port, settings.servers.web_port, settings.console.port}
    assert {p["containerPort"] for p in node_container()["ports"]} == ports
    paths = [p["path"] for rule in kind("Ingress")[0]["spec"]["rules"] for p in rule["http"]["paths"]]
    assert "/webhooks/" in paths and not [p for p in paths if p in ("/", "/conversations", "/model")]


def upstreams(conf: str) -> Dict[str, List[str]]:
    return {name: re.findall(r"server\s+([\w.-]+:\d+)", body)
            for name, body in re.findall(r"upstream\s+(\w+)\s*\{([^}]*)\}", conf)}


def test_the_proxy_reaches_the_nodes_ports():
    conf = (DEPLOY / "nginx.conf").read_text()
    settings = Settings.from_env(compose_env("node1"))
    expected = {"rasa": settings.servers.rasa_port, "socketio": settings.servers.rasa_port,
                "web": settings.servers.web_port, "console": settings.console.port}
    found = upstreams(conf)
    assert set(found) == set(expected)
    for name, port in expected.items():
        assert sorted(found[name]) == [f"{node}:{port}" for node in NODES], name
    assert "ip_hash" in re.search(r"upstream\s+socketio\s*\{([^}]*)\}", conf).group(1)  # long-polling: one node
    socketio = re.search(r"location /socket.io/ \{([^}]*)\}", conf).group(1)
    assert "Upgrade $http_upgrade" in socketio and "proxy_http_version 1.1" in socketio
    proxy_ip = compose()["services"]["proxy"]["networks"]["internal"]["ipv4_address"]
    assert settings.channels.trusted_proxies == (proxy_ip,)
    # nginx resolves the nodes' names once: each node keeps one address when its container is recreated
    subnet = ipaddress.ip_network(compose()["networks"]["internal"]["ipam"]["config"][0]["subnet"])
    fixed = [compose()["services"][node]["networks"]["internal"]["ipv4_address"] for node in NODES]
    assert len(set(fixed + [proxy_ip])) == len(NODES) + 1 and all(ipaddress.ip_address(a) in subnet for a in fixed)
    routed = re.findall(r"location\s+(?:=\s+)?(\S+)\s*\{\s*proxy_pass", conf)
    # the demo page and the console (its own port), the channels, the widget: never Rasa's API (/conversations)
    assert sorted(routed) == ["/", "/", "/socket.io/", "/webhooks/", "/widget.js"]


def test_kubernetes_runs_two_nodes_after_the_schema():
    deployment = next(d for d in kind("Deployment") if d["metadata"]["name"] == "motcua-node")
    assert deployment["spec"]["replicas"] >= 2
    assert node_container()["command"] == ["motcua", "run"]
    assert kind("Job")[0]["spec"]["template"]["spec"]["containers"][0]["command"] == ["motcua", "db", "upgrade"]
    names = {d["metadata"]["name"] for d in kind("Service")}
    assert {"motcua-postgres", "motcua-redis"} <= names
    settings = Settings.from_env(pod_env(node_container()))
    assert "@motcua-postgres:5432/" in settings.storage.database_url
    assert "@motcua-redis:6379/" in (settings.servers.lock_store_url or "")
