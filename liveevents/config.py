"""Service settings and secrets.

Settings are resolved in one order everywhere: command-line flags > ``LIVEEVENTS_*``
environment variables > the TOML file given with ``--config`` > defaults, and every value is
checked against its rule before anything is written.  Secrets follow the same order, then fall
back to ``<data dir>/secrets.json`` (mode 0600); any still missing are generated there (on the
first start, or a secret added by a newer version), and the file records which generated ones
are still to be shown.  Secrets never appear in ``repr`` or logs.
"""

from __future__ import annotations

import json
import math
import os
import secrets as _random
import socket
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from liveevents.delivery.urls import mask_url

__all__ = [
    "ConfigError",
    "Secrets",
    "Settings",
    "canvas_settings_text",
    "load_secrets",
    "load_settings",
    "mark_secrets_shown",
    "read_secret",
    "secrets_text",
]

ENV_PREFIX = "LIVEEVENTS_"
SECRETS_FILE = "secrets.json"
# The key in secrets.json listing the generated secrets not printed yet.  Files written before it
# have ``"shown": false`` (all of them still to print) or ``true``/nothing (all printed).
_TO_SHOW = "to_show"
_LEGACY_SHOWN = "shown"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})
POSTGRES_URL_SCHEMES = ("postgresql://", "postgres://")
# As SQLAlchemy spells it: sqlite:///relative/file, sqlite:////absolute/file.
_SQLITE_URL_PREFIX = "sqlite:///"
DATABASE_URL_RULE = (
    "empty (SQLite in the data dir), sqlite:///relative/file, sqlite:////absolute/file "
    "or a postgresql://user@host/database URL"
)


def sqlite_url_path(url: str) -> Path | None:
    """The database file a ``sqlite:///`` URL names, or None when ``url`` is not one."""
    if url.startswith(_SQLITE_URL_PREFIX) and len(url) > len(_SQLITE_URL_PREFIX):
        return Path(url.removeprefix(_SQLITE_URL_PREFIX))
    return None


class ConfigError(ValueError):
    """A setting that cannot be used, naming it, its source, the value and the rule (one line)."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("liveevents-data")
    # The Kinesis stream that exists from the first start (Canvas's ``kinesis_stream_name``).
    stream_name: str = "live-events"
    # Regions accepted in the SigV4 credential scope; the first is the one printed for Canvas.
    kinesis_regions: tuple[str, ...] = ("us-east-1",)
    # The endpoint Canvas is told to use (LIVEEVENTS_PUBLIC_URL), e.g. behind a proxy; default:
    # http://<host>:<bound port>, with this machine's host name when listening on 0.0.0.0 or ::.
    public_url: str = ""
    retention_days: float = 14.0
    purge_interval_seconds: float = 3600.0
    # AWS refuses PutRecords with more than 500 records; Canvas batches by bytes only and loses a
    # refused batch, so the cap is off unless asked for.
    kinesis_strict_record_count: bool = False
    # Off only on a trusted network: then any Authorization header is accepted.
    verify_signatures: bool = True
    # ``/metrics`` without a token, for a scraper on a private network; by default it needs the
    # metrics token (or the admin token): its labels name subscriptions.
    metrics_public: bool = False
    # Records waiting for the writer; beyond this, new records are refused with InternalFailure
    # (Canvas retries them) instead of queueing without bound.
    max_pending_records: int = 200_000
    # Empty: the embedded SQLite store in the data dir; ``postgresql://...``: PostgreSQL.
    database_url: str = ""
    shutdown_timeout_seconds: float = 30.0
    log_level: str = "info"

    # -- delivery (liveevents.delivery) ----------------------------------------------------------
    # Off on an ingest-only node: subscriptions are still managed, another node delivers.
    delivery_enabled: bool = True
    # Plain http:// destinations on hosts other than loopback (LIVEEVENTS_ALLOW_HTTP=1).
    allow_http: bool = False
    # The JWT ``iss``; default: the public URL.  Consumers written for Instructure may expect
    # https://live-events.canvas.instructure.com.
    jwt_issuer: str = ""
    # The RS256 keys (previous/current/next); default <data dir>/keys.  Nodes sharing one
    # PostgreSQL store must share this directory too (they publish and sign with the same keys).
    keys_dir: str = ""
    key_rotation_days: float = 30.0
    # Caliper envelopes: ``canvas`` (Instructure's documented output) or ``strict``; the Canvas
    # host named as the sensor of job events, which carry no host name.
    caliper_profile: str = "canvas"
    canvas_domain: str = ""
    # POSTed a JSON notice for every subscription deactivated or failing (beside the subscription's own).
    notification_url: str = ""
    delivery_timeout_seconds: float = 15.0
    # Per subscription: concurrent requests (connections), and events between the durable
    # cursor and the newest event sent (in flight or awaiting a commit).
    delivery_connections: int = 16
    delivery_window: int = 2048
    # Threads that render and sign payloads (RSA signing releases the GIL); 0: one per CPU.
    signing_threads: int = 0
    # Retry schedules (seconds before retry 1, 2, ...) of the two profiles, and their jitter.
    retry_schedule_seconds: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
    instructure_retry_schedule_seconds: tuple[float, ...] = (75, 225, 675)
    retry_jitter: float = 0.2
    # ``durable`` profile: deactivate after this long without a success (while still failing:
    # at least ``deactivate_min_failures`` failed attempts in 24 h), warn after ``warn_after_hours``.
    deactivate_after_hours: float = 120.0
    warn_after_hours: float = 72.0
    deactivate_min_failures: int = 5
    # ``instructure`` profile: deactivate after this many events given up on within 24 h.
    instructure_max_timeouts: int = 9_500
    instructure_max_errors: int = 28_000
    # After this many failures in a row the subscription stops taking new events (they wait in
    # the log) and sends one every ``probe_seconds`` until one succeeds.
    pause_after_failures: int = 20
    probe_seconds: float = 30.0
    # Several nodes: a node owns a subscription for ``lease_seconds`` and renews it a third of
    # that; a dead node's subscriptions are taken over once its leases expire.
    lease_seconds: float = 15.0
    # This node's name in leases; default <host name>:<port>, stable across restarts.
    node_id: str = ""

    @property
    def wildcard_bind(self) -> bool:
        """Listening on every interface: the bind address names no host that others can reach."""
        return self.host in _WILDCARDS

    @property
    def endpoint_url(self) -> str:
        """The URL others (Canvas, consumers, the CLI) reach this service at: ``public_url`` if set,
        else the bound host and port, with this machine's host name for a wildcard bind."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = socket.gethostname() if self.wildcard_bind else self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def embedded_store(self) -> bool:
        """The SQLite store in the data dir (one process per data dir), rather than PostgreSQL (several nodes)."""
        return not self.database_url.startswith(POSTGRES_URL_SCHEMES)

    @property
    def region(self) -> str:
        return self.kinesis_regions[0]

    @property
    def issuer(self) -> str:
        return self.jwt_issuer or self.endpoint_url

    @property
    def keys_path(self) -> Path:
        return Path(self.keys_dir) if self.keys_dir else self.data_dir / "keys"


@dataclass(frozen=True, slots=True)
class Secrets:
    admin_token: str = field(repr=False)
    ingest_token: str = field(repr=False)
    # Read-only: ``GET /metrics`` (Prometheus's bearer token); the management API refuses it.
    metrics_token: str = field(repr=False)
    kinesis_access_key_id: str
    kinesis_secret_access_key: str = field(repr=False)


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge defaults < TOML < environment < flags (``None`` flag values are ignored), checking
    every value given against its setting's rule."""
    environ = os.environ if environ is None else environ
    merged: dict[str, tuple[Any, str]] = {}  # name -> (value, where it came from)
    if config_file is not None:
        merged.update((name, (value, f"config file {config_file}")) for name, value in _read_toml(config_file).items())
    for item in fields(Settings):
        variable = ENV_PREFIX + item.name.upper()
        raw = environ.get(variable)
        if raw is not None and raw != "":
            merged[item.name] = (raw, variable)
    merged.update((name, (value, "--" + name.replace("_", "-"))) for name, value in (flags or {}).items() if value is not None)
    unknown = sorted(set(merged) - {item.name for item in fields(Settings)})
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r} in {merged[unknown[0]][1]} (known: {', '.join(item.name for item in fields(Settings))})")
    return Settings(**{name: _checked(name, value, source) for name, (value, source) in merged.items()})


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    # Secrets belong in the environment or the data dir, not in a file that gets committed.
    secret_names = {item.name for item in fields(Secrets)} & set(document)
    if secret_names:
        raise ConfigError(f"config file {path}: {sorted(secret_names)[0]!r} is a secret; set LIVEEVENTS_{sorted(secret_names)[0].upper()} instead")
    return document


_TYPES = {item.name: item.type for item in fields(Settings)}


# URLs may carry a password (postgresql://user:password@host/db): errors show them masked.
_URL_SETTINGS = frozenset({"database_url", "public_url", "notification_url"})


def _checked(name: str, value: Any, source: str) -> Any:
    shown = mask_url(value) if name in _URL_SETTINGS and isinstance(value, str) else value
    try:
        coerced = _coerce(name, value)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"setting {name!r} from {source}: {shown!r} is not a valid {_TYPES[name]} ({error})") from None
    rule = _RULES.get(name) or _NUMBER_RULES.get(_TYPES[name])
    if rule is not None and not rule[0](coerced):
        raise ConfigError(f"setting {name!r} from {source}: {shown!r} is not allowed: {rule[1]}")
    return coerced


def _coerce(name: str, value: Any) -> Any:
    match _TYPES[name]:
        case "int":
            return int(value)
        case "float":
            return float(value)
        case "bool":
            return value if isinstance(value, bool) else _parse_bool(str(value))
        case "Path":
            return Path(value)
        case "tuple[str, ...]":
            return _items(value)
        case "tuple[float, ...]":
            numbers = tuple(float(item) for item in _items(value))
            if any(number < 0 for number in numbers):
                raise ValueError("values must not be negative")
            return numbers
        case _:
            return str(value)


def _web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


# Checked after coercion: (test, the rule as the error states it).
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "port": (lambda port: 0 <= port <= 65535, "a TCP port from 0 to 65535 (0: any free port)"),
    "log_level": (lambda level: level.lower() in LOG_LEVELS, f"one of {', '.join(LOG_LEVELS)}"),
    "database_url": (
        lambda url: url == "" or url.startswith(POSTGRES_URL_SCHEMES) or sqlite_url_path(url) is not None,
        DATABASE_URL_RULE,
    ),
    "public_url": (lambda url: url == "" or _web_url(url), "an http:// or https:// URL with a host, such as https://events.example.edu"),
    "notification_url": (lambda url: url == "" or _web_url(url), "an http:// or https:// URL with a host"),
    # Zero would mean: purge or probe in a busy loop, no room for a record, time out at once.
    **{
        name: (lambda number: number > 0, "a number greater than 0")
        for name in (
            "retention_days", "purge_interval_seconds", "max_pending_records", "key_rotation_days", "delivery_timeout_seconds",
            "delivery_connections", "delivery_window", "probe_seconds", "lease_seconds",
        )
    },  # fmt: skip
}
_NUMBER_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "int": (lambda number: number >= 0, "a number 0 or greater"),
    "float": (lambda number: number >= 0 and math.isfinite(number), "a finite number 0 or greater"),
}


def _items(value: Any) -> tuple[str, ...]:
    """A comma-separated string or a (TOML) list, as stripped strings."""
    items = value.split(",") if isinstance(value, str) else list(value)
    result = tuple(str(item).strip() for item in items if str(item).strip())
    if not result:
        raise ValueError("needs at least one value")
    return result


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true/false")


def load_secrets(data_dir: Path, environ: Mapping[str, str] | None = None) -> tuple[Secrets, frozenset[str]]:
    """Return the secrets and the names of the generated ones still to be shown (empty when none
    are; see ``secrets_text`` and ``mark_secrets_shown``).

    Environment values win; the rest come from ``<data_dir>/secrets.json``, and missing ones
    are generated and written there (0600) so that a restart keeps them.  Secrets generated by a
    start that failed before it showed them are shown by the next one; a secret added to a file
    whose secrets were shown already (an upgrade) is shown alone.
    """
    environ = os.environ if environ is None else environ
    path = data_dir / SECRETS_FILE
    stored: dict[str, Any] = {}
    if path.exists():
        if path.stat().st_mode & 0o077:
            # Written by hand or restored from a backup with the umask's mode: the service's only.
            path.chmod(0o600)
        stored = json.loads(path.read_text(encoding="utf-8"))
    values: dict[str, str] = {}
    to_show = _still_to_show(stored)
    generated = False
    for item in fields(Secrets):
        from_env = environ.get(ENV_PREFIX + item.name.upper())
        if from_env:
            values[item.name] = from_env
        elif stored.get(item.name):
            values[item.name] = stored[item.name]
        else:
            values[item.name] = stored[item.name] = _GENERATORS[item.name]()
            to_show.append(item.name)
            generated = True
    if generated:
        stored.pop(_LEGACY_SHOWN, None)
        stored[_TO_SHOW] = to_show
        # The data dir holds the event log and the secrets: private to the service's user.
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_private(path, json.dumps(stored, indent=2) + "\n")
    return Secrets(**values), frozenset(to_show)


def _still_to_show(stored: Mapping[str, Any]) -> list[str]:
    """The generated secrets that ``secrets.json`` records as not shown yet."""
    if _TO_SHOW in stored:
        return list(stored[_TO_SHOW])
    # A file without the flag was written by a version that showed the secrets as it generated them.
    if stored.get(_LEGACY_SHOWN, True) is False:
        return [item.name for item in fields(Secrets) if item.name in stored]
    return []


def mark_secrets_shown(data_dir: Path) -> None:
    """Record that the generated secrets in ``<data_dir>/secrets.json`` have been shown."""
    path = data_dir / SECRETS_FILE
    stored = json.loads(path.read_text(encoding="utf-8"))
    stored.pop(_LEGACY_SHOWN, None)
    stored[_TO_SHOW] = []
    _write_private(path, json.dumps(stored, indent=2) + "\n")


def read_secret(name: str, data_dir: Path, environ: Mapping[str, str] | None = None) -> str | None:
    """One secret as the service would use it (environment, then the data dir); never generates."""
    environ = os.environ if environ is None else environ
    from_env = environ.get(ENV_PREFIX + name.upper())
    if from_env:
        return from_env
    path = data_dir / SECRETS_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8")).get(name) or None
    except FileNotFoundError:
        return None


def _write_private(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def _access_key_id() -> str:
    # Shaped like an AWS key id (20 upper-case characters) so that tools which check the form accept it.
    alphabet = string.ascii_uppercase + "234567"
    return "LEAK" + "".join(_random.choice(alphabet) for _ in range(16))


_GENERATORS = {
    "admin_token": lambda: _random.token_urlsafe(32),
    "ingest_token": lambda: _random.token_urlsafe(32),
    "metrics_token": lambda: _random.token_urlsafe(32),
    "kinesis_access_key_id": _access_key_id,
    "kinesis_secret_access_key": lambda: _random.token_urlsafe(30),
}


def canvas_settings_text(settings: Settings, secrets: Secrets) -> str:
    """The exact Canvas live-events settings for this instance (contains secrets: print once)."""
    return f"""\
Canvas live-events settings (the "Live Events" plugin page, or the live_events.yml keys below):
  aws_endpoint:              {settings.endpoint_url}
  kinesis_stream_name:       {settings.stream_name}
  aws_region:                {settings.region}
  aws_access_key_id:         {secrets.kinesis_access_key_id}
  aws_secret_access_key_dec: {secrets.kinesis_secret_access_key}

config/dynamic_settings.yml (current Canvas, without Consul):
  production:
    private:
      canvas:
        live_events.yml: |-
          aws_endpoint: {settings.endpoint_url}
          kinesis_stream_name: {settings.stream_name}
          aws_region: {settings.region}
          aws_access_key_id: {secrets.kinesis_access_key_id}
          aws_secret_access_key_dec: {secrets.kinesis_secret_access_key}

HTTP ingest:    POST {settings.endpoint_url}/api/v1/events   Authorization: Bearer {secrets.ingest_token}
Management API: {settings.endpoint_url}/api/v1/...           Authorization: Bearer {secrets.admin_token}
{_metrics_text(settings, secrets)}
{_reachability_note(settings)}These secrets are shown once; they are kept in {settings.data_dir / SECRETS_FILE} (mode 0600).
"""


def secrets_text(settings: Settings, secrets: Secrets, to_show: frozenset[str]) -> str:
    """What to print for the generated secrets ``to_show`` (from ``load_secrets``): the whole
    setup, or only the metrics token when it alone is new (added to a data dir by an upgrade:
    the secrets shown before are not shown again)."""
    if to_show == {"metrics_token"}:
        return f"{_metrics_text(settings, secrets)}\nThis token is shown once; it is kept in {settings.data_dir / SECRETS_FILE} (mode 0600).\n"
    return canvas_settings_text(settings, secrets)


def _metrics_text(settings: Settings, secrets: Secrets) -> str:
    """The metrics endpoint, its token and a Prometheus scrape config (one YAML flow line)."""
    endpoint = urlsplit(settings.endpoint_url)
    # JSON strings are YAML strings: a token given by environment may hold any character.
    scrape = (
        f"{{job_name: liveevents, scheme: {endpoint.scheme}, metrics_path: {endpoint.path}/metrics, "
        f"static_configs: [{{targets: [{json.dumps(endpoint.netloc)}]}}], authorization: {{credentials: {json.dumps(secrets.metrics_token)}}}}}"
    )
    note = "metrics_public is on: no token needed" if settings.metrics_public else "read-only; the admin token works too"
    return f"""\
Metrics:        GET {settings.endpoint_url}/metrics          Authorization: Bearer {secrets.metrics_token}  ({note})
Prometheus scrape_configs entry: {scrape}
"""


def _reachability_note(settings: Settings) -> str:
    if settings.public_url or not settings.wildcard_bind:
        return ""
    return (
        f"Canvas must reach liveevents at {settings.endpoint_url} (this machine's host name, as it listens on {settings.host or 'every interface'});\n"
        "if it cannot, set public_url (LIVEEVENTS_PUBLIC_URL) to the address it can reach.\n\n"
    )
