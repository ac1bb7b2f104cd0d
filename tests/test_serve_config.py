"""Settings precedence (flags > LIVEEVENTS_* > TOML > defaults) and secrets handling."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import yaml
from click.testing import CliRunner

from liveevents.cli import main
from liveevents.config import ConfigError, Secrets, Settings, canvas_settings_text, load_secrets, load_settings, mark_secrets_shown, secrets_text
from liveevents.store.sqlite_schema import MIGRATIONS as SQLITE_MIGRATIONS
from tests.helpers.service import ServedInstance, wait_for_health


def test_defaults_are_safe() -> None:
    settings = load_settings(environ={})
    assert (settings.host, settings.port, settings.data_dir, settings.stream_name) == ("127.0.0.1", 8080, Path("liveevents-data"), "live-events")
    assert settings.retention_days == 14
    assert settings.verify_signatures is True and settings.kinesis_strict_record_count is False
    assert settings.endpoint_url == "http://127.0.0.1:8080"
    assert settings.delivery_timeout_seconds == 15.0  # Instructure's webhook timeout
    assert settings.allow_http is False
    assert settings.metrics_public is False  # /metrics needs a token: its labels name subscriptions


def test_flags_beat_environment_beat_toml(tmp_path: Path) -> None:
    config = tmp_path / "liveevents.toml"
    config.write_text('port = 7000\nstream_name = "from-toml"\nretention_days = 30\nkinesis_regions = ["eu-west-1", "us-east-1"]\n')
    environ = {"LIVEEVENTS_PORT": "7100", "LIVEEVENTS_STREAM_NAME": "from-env", "LIVEEVENTS_VERIFY_SIGNATURES": "off"}
    settings = load_settings({"port": 7200, "host": None}, config_file=config, environ=environ)
    assert settings.port == 7200
    assert settings.stream_name == "from-env"
    assert settings.retention_days == 30.0
    assert settings.kinesis_regions == ("eu-west-1", "us-east-1") and settings.region == "eu-west-1"
    assert settings.verify_signatures is False
    assert settings.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LIVEEVENTS_PORT": "eighty"}, "setting 'port' from LIVEEVENTS_PORT: 'eighty' is not a valid int"),
        ({"LIVEEVENTS_VERIFY_SIGNATURES": "maybe"}, "setting 'verify_signatures' from LIVEEVENTS_VERIFY_SIGNATURES: 'maybe'"),
    ],
)
def test_bad_values_name_the_setting(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=environ)


def test_toml_refuses_unknown_settings_and_secrets(tmp_path: Path) -> None:
    config = tmp_path / "liveevents.toml"
    config.write_text('prot = 1\n')
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        load_settings(config_file=config, environ={})
    config.write_text('admin_token = "in-a-file"\n')
    with pytest.raises(ConfigError, match="LIVEEVENTS_ADMIN_TOKEN"):
        load_settings(config_file=config, environ={})


def test_secrets_are_generated_once_shown_once_and_environment_wins(tmp_path: Path) -> None:
    first, to_show = load_secrets(tmp_path / "data", environ={})
    assert to_show == frozenset({"admin_token", "ingest_token", "metrics_token", "kinesis_access_key_id", "kinesis_secret_access_key"})
    assert len(first.kinesis_access_key_id) == 20 and first.kinesis_access_key_id.isupper()
    assert len({first.admin_token, first.ingest_token, first.metrics_token}) == 3
    assert stat.S_IMODE((tmp_path / "data" / "secrets.json").stat().st_mode) == 0o600
    assert load_secrets(tmp_path / "data", environ={}) == (first, to_show)  # not shown yet: still to show
    mark_secrets_shown(tmp_path / "data")
    assert stat.S_IMODE((tmp_path / "data" / "secrets.json").stat().st_mode) == 0o600
    assert load_secrets(tmp_path / "data", environ={}) == (first, frozenset())
    overridden, _ = load_secrets(tmp_path / "data", environ={"LIVEEVENTS_ADMIN_TOKEN": "from-env", "LIVEEVENTS_METRICS_TOKEN": "metrics-from-env"})
    assert overridden.admin_token == "from-env" and overridden.ingest_token == first.ingest_token
    assert overridden.metrics_token == "metrics-from-env"
    for secret in (first.admin_token, first.metrics_token, first.kinesis_secret_access_key):
        assert secret not in repr(first)


# A secrets.json written before the metrics token existed.
_OLDER_SECRETS = {"admin_token": "a", "ingest_token": "i", "kinesis_access_key_id": "K", "kinesis_secret_access_key": "s"}


@pytest.mark.parametrize("flag", [{}, {"shown": True}])
def test_a_secrets_file_of_an_older_version_gets_a_metrics_token_shown_alone(tmp_path: Path, flag: dict[str, bool]) -> None:
    """Without the flag or with ``"shown": true`` (its secrets shown as they were generated): only
    the new metrics token is to be shown, and it is kept from then on, the file still 0600."""
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps(_OLDER_SECRETS | flag))
    secrets, to_show = load_secrets(tmp_path, environ={})
    assert (secrets.admin_token, secrets.ingest_token, secrets.kinesis_access_key_id, secrets.kinesis_secret_access_key) == ("a", "i", "K", "s")
    assert to_show == frozenset({"metrics_token"})
    stored = json.loads(path.read_text())
    assert stored["metrics_token"] == secrets.metrics_token and len(secrets.metrics_token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secrets(tmp_path, environ={}) == (secrets, frozenset({"metrics_token"}))  # a failed start: still to show
    mark_secrets_shown(tmp_path)
    assert load_secrets(tmp_path, environ={}) == (secrets, frozenset())


def test_a_secrets_file_of_an_older_version_not_shown_yet_shows_everything(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text(json.dumps(_OLDER_SECRETS | {"shown": False}))
    assert load_secrets(tmp_path, environ={})[1] == frozenset({"admin_token", "ingest_token", "metrics_token", "kinesis_access_key_id", "kinesis_secret_access_key"})


def test_a_metrics_token_from_the_environment_is_not_generated(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text(json.dumps(_OLDER_SECRETS))
    secrets, to_show = load_secrets(tmp_path, environ={"LIVEEVENTS_METRICS_TOKEN": "scrape-me"})
    assert (secrets.metrics_token, to_show) == ("scrape-me", frozenset())
    assert "metrics_token" not in json.loads((tmp_path / "secrets.json").read_text())


def test_metrics_public_is_a_boolean_setting_from_toml_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "liveevents.toml"
    config.write_text("metrics_public = true\n")
    assert load_settings(config_file=config, environ={}).metrics_public is True
    assert load_settings(config_file=config, environ={"LIVEEVENTS_METRICS_PUBLIC": "off"}).metrics_public is False
    assert load_settings(environ={"LIVEEVENTS_METRICS_PUBLIC": "yes"}).metrics_public is True
    with pytest.raises(ConfigError, match="setting 'metrics_public' from LIVEEVENTS_METRICS_PUBLIC: 'sometimes' is not a valid bool"):
        load_settings(environ={"LIVEEVENTS_METRICS_PUBLIC": "sometimes"})
    config.write_text('metrics_token = "in-a-file"\n')
    with pytest.raises(ConfigError, match="LIVEEVENTS_METRICS_TOKEN"):
        load_settings(config_file=config, environ={})


def test_a_secrets_file_readable_by_others_is_made_private(tmp_path: Path) -> None:
    """secrets.json written by an operator (or restored) with the umask's mode: 0600 once read."""
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"admin_token": "a", "ingest_token": "i", "kinesis_access_key_id": "K", "kinesis_secret_access_key": "s"}))
    path.chmod(0o644)
    secrets, _ = load_secrets(tmp_path, environ={})
    assert secrets.admin_token == "a"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_canvas_settings_name_every_canvas_field(tmp_path: Path) -> None:
    secrets, _ = load_secrets(tmp_path, environ={})
    text = canvas_settings_text(Settings(port=4567, public_url="https://events.example.edu"), secrets)
    for line in (
        "aws_endpoint: https://events.example.edu",
        "kinesis_stream_name: live-events",
        "aws_region: us-east-1",
        f"aws_access_key_id: {secrets.kinesis_access_key_id}",
        f"aws_secret_access_key_dec: {secrets.kinesis_secret_access_key}",
    ):
        assert line in text
    assert "  private:\n      canvas:\n        live_events.yml: |-" in text


_TOKENS = Secrets(
    admin_token="adm-7Qx", ingest_token="ing-3Kp", metrics_token="met-9Zr", kinesis_access_key_id="LEAKEXAMPLE000000001", kinesis_secret_access_key="kin-5Wd"
)
_METRICS_LINE = "Metrics:        GET https://events.example.edu/live/metrics          Authorization: Bearer met-9Zr  (read-only; the admin token works too)\n"
_PROMETHEUS_LINE = (
    "Prometheus scrape_configs entry: {job_name: liveevents, scheme: https, metrics_path: /live/metrics, "
    'static_configs: [{targets: ["events.example.edu"]}], authorization: {credentials: "met-9Zr"}}\n'
)


def test_the_setup_text_names_the_metrics_token_and_a_prometheus_scrape_config() -> None:
    settings = Settings(port=4567, public_url="https://events.example.edu/live/")
    text = canvas_settings_text(settings, _TOKENS)
    assert _METRICS_LINE + _PROMETHEUS_LINE in text
    # The line is a scrape_configs entry as Prometheus reads it (YAML).
    entry = yaml.safe_load(_PROMETHEUS_LINE.removeprefix("Prometheus scrape_configs entry: "))
    assert entry == {
        "job_name": "liveevents",
        "scheme": "https",
        "metrics_path": "/live/metrics",
        "static_configs": [{"targets": ["events.example.edu"]}],
        "authorization": {"credentials": "met-9Zr"},
    }
    public = canvas_settings_text(replace(settings, metrics_public=True), _TOKENS)
    assert "Authorization: Bearer met-9Zr  (metrics_public is on: no token needed)\n" in public


def test_a_metrics_token_new_alone_is_shown_without_the_other_secrets() -> None:
    settings = Settings(port=4567, public_url="https://events.example.edu/live/")
    alone = secrets_text(settings, _TOKENS, frozenset({"metrics_token"}))
    assert alone == _METRICS_LINE + _PROMETHEUS_LINE + "\nThis token is shown once; it is kept in liveevents-data/secrets.json (mode 0600).\n"
    everything = secrets_text(settings, _TOKENS, frozenset({"metrics_token", "ingest_token"}))
    assert everything == canvas_settings_text(settings, _TOKENS)
    assert "adm-7Qx" in everything and "kin-5Wd" in everything


def test_serve_reports_a_bad_config_file_as_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("port = [")
    result = CliRunner().invoke(main, ["serve", "--config", str(config), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert "is not valid TOML" in result.output


def serve_once(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``liveevents serve`` with no secrets set, run until it exits by itself."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LIVEEVENTS_")} | env
    command = [sys.executable, "-m", "liveevents.cli", "serve", "--data-dir", str(data_dir), *args]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ((), {"LIVEEVENTS_LOG_LEVEL": "loud"},
         "setting 'log_level' from LIVEEVENTS_LOG_LEVEL: 'loud' is not allowed: one of critical, error, warning, info, debug"),
        ((), {"LIVEEVENTS_DATABASE_URL": "mysql://db.example.edu/events"},
         "setting 'database_url' from LIVEEVENTS_DATABASE_URL: 'mysql://db.example.edu/events' is not allowed: "
         "empty (SQLite in the data dir), sqlite:///relative/file, sqlite:////absolute/file or a postgresql://user@host/database URL"),
        ((), {"LIVEEVENTS_DATABASE_URL": "postgresq://liveevents:hunter2@db.example.edu/events"},
         "setting 'database_url' from LIVEEVENTS_DATABASE_URL: 'postgresq://liveevents:****@db.example.edu/events' is not allowed: "
         "empty (SQLite in the data dir), sqlite:///relative/file, sqlite:////absolute/file or a postgresql://user@host/database URL"),
        ((), {"LIVEEVENTS_NOTIFICATION_URL": "hooks.example.edu/notify?token=s3cret"},
         "setting 'notification_url' from LIVEEVENTS_NOTIFICATION_URL: 'hooks.example.edu/notify?token=****' is not allowed: "
         "an http:// or https:// URL with a host"),
        ((), {"LIVEEVENTS_DATABASE_URL": "sqlite://events.db"},
         "setting 'database_url' from LIVEEVENTS_DATABASE_URL: 'sqlite://events.db' is not allowed: "
         "empty (SQLite in the data dir), sqlite:///relative/file, sqlite:////absolute/file or a postgresql://user@host/database URL"),
        (("--port", "70000"), {}, "setting 'port' from --port: 70000 is not allowed: a TCP port from 0 to 65535 (0: any free port)"),
        ((), {"LIVEEVENTS_RETENTION_DAYS": "-1"}, "setting 'retention_days' from LIVEEVENTS_RETENTION_DAYS: '-1' is not allowed: a number greater than 0"),
        ((), {"LIVEEVENTS_SIGNING_THREADS": "-2"}, "setting 'signing_threads' from LIVEEVENTS_SIGNING_THREADS: '-2' is not allowed: a number 0 or greater"),
        ((), {"LIVEEVENTS_PUBLIC_URL": "events.westbrook.ac.uk"},
         "setting 'public_url' from LIVEEVENTS_PUBLIC_URL: 'events.westbrook.ac.uk' is not allowed: "
         "an http:// or https:// URL with a host, such as https://events.example.edu"),
        ((), {"LIVEEVENTS_DELIVERY_WINDOW": "many"},
         "setting 'delivery_window' from LIVEEVENTS_DELIVERY_WINDOW: 'many' is not a valid int (invalid literal for int() with base 10: 'many')"),
    ],
)  # fmt: skip
def test_a_bad_setting_is_one_line_exit_2_and_nothing_written(tmp_path: Path, args: tuple[str, ...], env: dict[str, str], message: str) -> None:
    data_dir = tmp_path / "data"
    result = serve_once(data_dir, *args, **env)
    assert (result.returncode, result.stderr, result.stdout) == (2, f"liveevents serve: {message}\n", "")
    assert not data_dir.exists()


def test_a_bad_setting_in_the_config_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "liveevents.toml"
    config.write_text("purge_interval_seconds = 0\n")
    result = serve_once(tmp_path / "data", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr == f"liveevents serve: setting 'purge_interval_seconds' from config file {config}: 0 is not allowed: a number greater than 0\n"


def test_a_bad_caliper_setting_stops_before_secrets_are_generated(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = serve_once(data_dir, "--port", "0", LIVEEVENTS_CALIPER_PROFILE="loose")
    assert result.returncode == 2
    assert result.stderr == "liveevents serve: Caliper settings: profile 'loose': expected one of canvas, strict\n"
    assert not (data_dir / "secrets.json").exists()


def _not_a_database(path: Path) -> None:
    path.write_bytes(b"grades,2024\nada,97\n" * 40)


def _another_applications_database(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE events (id integer PRIMARY KEY, title text)")
    connection.close()


def _from_a_newer_liveevents(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {len(SQLITE_MIGRATIONS) + 1}")
    connection.close()


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (Path.mkdir, "it is not a regular file (a directory?)"),
        (_not_a_database, "file is not a database (not an SQLite database, or damaged)"),
        (_another_applications_database, "it holds 1 table(s) but no liveevents schema (another application's database?); name a new file or an empty one"),
        (
            _from_a_newer_liveevents,
            f"has schema version {len(SQLITE_MIGRATIONS) + 1}, written by a newer liveevents; this version knows versions up to "
            f"{len(SQLITE_MIGRATIONS)}: upgrade liveevents on this node (or use another database)",
        ),
    ],
    ids=["directory", "not-sqlite", "foreign-tables", "newer-schema"],
)
def test_a_database_file_that_cannot_be_used_stops_the_start_in_one_line_before_secrets(
    tmp_path: Path, make: Callable[[Path], object], reason: str
) -> None:
    data_dir, database = tmp_path / "data", tmp_path / "elsewhere.sqlite3"
    make(database)
    failed = serve_once(data_dir, "--port", "0", LIVEEVENTS_DATABASE_URL=f"sqlite:///{database}")
    assert failed.returncode == 1
    assert failed.stdout == ""
    [line] = failed.stderr.splitlines()
    assert line.startswith(f"liveevents serve: cannot use the database file {database}: " if "newer" not in reason else f"liveevents serve: the database file {database} ")
    assert line.endswith(reason)
    assert not (data_dir / "secrets.json").exists()
    # Nothing was changed: the file is as the operator left it.
    if make is _another_applications_database:
        with sqlite3.connect(database) as connection:
            assert connection.execute("SELECT name FROM sqlite_schema").fetchall() == [("events",)]
        connection.close()


def test_secrets_generated_by_a_start_are_shown_by_the_first_start_that_succeeds(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    # Generated, then the start fails before the service announces them (as a store failing to open would).
    stored, to_show = load_secrets(data_dir, environ={})
    assert to_show
    with ServedInstance.start(data_dir, secrets=None) as first_success:
        first_output = first_success.output()
        assert f"aws_access_key_id: {stored.kinesis_access_key_id}" in first_output
        assert f"aws_secret_access_key_dec: {stored.kinesis_secret_access_key}" in first_output
        assert stored.admin_token in first_output and stored.ingest_token in first_output
        assert f"Authorization: Bearer {stored.metrics_token}  (read-only; the admin token works too)" in first_output
    with ServedInstance.start(data_dir, secrets=None) as restarted:
        later_output = restarted.output()[len(first_output):]
        assert "liveevents: Kinesis endpoint" in later_output
        for secret in (stored.admin_token, stored.ingest_token, stored.metrics_token, stored.kinesis_access_key_id, stored.kinesis_secret_access_key):
            assert secret not in later_output


def test_an_upgraded_data_dir_gets_a_metrics_token_shown_alone_once_and_kept(tmp_path: Path) -> None:
    """A data dir of a version before the metrics token: the token is generated, kept (0600) and
    printed alone with the scrape config; the secrets shown before are not printed again."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    older = {"admin_token": "older-admin-token-4821", "ingest_token": "older-ingest-token-1930", "kinesis_access_key_id": "LEAKOLDER00000000001",
             "kinesis_secret_access_key": "older-kinesis-secret-7705", "shown": True}  # fmt: skip
    (data_dir / "secrets.json").write_text(json.dumps(older))
    with ServedInstance.start(data_dir, secrets=None) as upgraded:
        stored = json.loads((data_dir / "secrets.json").read_text())
        token = stored["metrics_token"]
        output = upgraded.output()
        assert f"Metrics:        GET {upgraded.url}/metrics          Authorization: Bearer {token}  (read-only; the admin token works too)\n" in output
        assert f'authorization: {{credentials: "{token}"}}}}\n' in output
        for name in ("admin_token", "ingest_token", "kinesis_access_key_id", "kinesis_secret_access_key"):
            assert stored[name] == older[name] and older[name] not in output
        assert "aws_endpoint" not in output
        assert httpx.get(upgraded.url + "/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert stat.S_IMODE((data_dir / "secrets.json").stat().st_mode) == 0o600
    with ServedInstance.start(data_dir, secrets=None) as restarted:
        assert token not in restarted.output()[len(output):]
        assert json.loads((data_dir / "secrets.json").read_text())["metrics_token"] == token
        assert httpx.get(restarted.url + "/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_wildcard_bind_names_this_machine_and_says_canvas_must_reach_it(tmp_path: Path, host: str) -> None:
    secrets, _ = load_secrets(tmp_path, environ={})
    text = canvas_settings_text(Settings(host=host, port=4567), secrets)
    assert f"aws_endpoint:              http://{socket.gethostname()}:4567\n" in text
    assert f"Canvas must reach liveevents at http://{socket.gethostname()}:4567 (this machine's host name, as it listens on {host});" in text
    assert "set public_url (LIVEEVENTS_PUBLIC_URL)" in text
    behind_proxy = canvas_settings_text(Settings(host=host, port=4567, public_url="https://events.westbrook.ac.uk/"), secrets)
    assert "aws_endpoint:              https://events.westbrook.ac.uk\n" in behind_proxy
    assert "Canvas must reach" not in behind_proxy


def test_a_named_host_is_used_as_it_is() -> None:
    assert Settings(host="10.20.0.7", port=9000).endpoint_url == "http://10.20.0.7:9000"
    assert Settings(host="::1", port=9000).endpoint_url == "http://[::1]:9000"
    assert load_settings(environ={"LIVEEVENTS_PUBLIC_URL": "https://events.westbrook.ac.uk"}).endpoint_url == "https://events.westbrook.ac.uk"


def test_port_0_prints_the_port_it_bound(tmp_path: Path) -> None:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LIVEEVENTS_")}
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "liveevents.cli", "serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path / "data")]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while "liveevents: Kinesis endpoint" not in log.read_text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        text = log.read_text()
        [endpoint] = re.findall(r"^  aws_endpoint: +(\S+)$", text, re.MULTILINE)
        assert re.fullmatch(rf"http://{re.escape(socket.gethostname())}:[1-9][0-9]*", endpoint)
        port = int(endpoint.rsplit(":", 1)[1])
        assert f"liveevents: Kinesis endpoint http://{socket.gethostname()}:{port} (stream 'live-events')" in text
        wait_for_health(f"http://127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0


def test_an_address_in_use_stops_the_start_before_secrets_are_generated(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve_once(tmp_path / "data", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr == f"liveevents serve: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert result.stdout == ""
    assert not (tmp_path / "data" / "secrets.json").exists()


def test_an_unreachable_database_stops_the_start_in_one_line_before_secrets(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://liveevents:hunter2@127.0.0.1:{port}/events"
    result = serve_once(tmp_path / "data", "--port", "0", LIVEEVENTS_DATABASE_URL=url)
    assert result.returncode == 1
    assert result.stderr.startswith(f"liveevents serve: cannot connect to PostgreSQL at postgresql://liveevents:****@127.0.0.1:{port}/events: ")
    assert "Connection refused" in result.stderr and result.stderr.count("\n") == 1
    assert "hunter2" not in result.stderr + result.stdout
    assert not (tmp_path / "data" / "secrets.json").exists()


def test_a_data_dir_that_cannot_be_created_stops_the_start_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = serve_once(blocker / "data", "--port", "0")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"liveevents serve: cannot create or lock {blocker / 'data'}: Not a directory\n"
