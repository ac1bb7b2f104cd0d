"""Settings precedence (flags > LIVEEVENTS_* > TOML > defaults) and secrets handling."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from liveevents.cli import main
from liveevents.config import ConfigError, Settings, canvas_settings_text, load_secrets, load_settings


def test_defaults_are_safe() -> None:
    settings = load_settings(environ={})
    assert (settings.host, settings.port, settings.data_dir, settings.stream_name) == ("127.0.0.1", 8080, Path("liveevents-data"), "live-events")
    assert settings.retention_days == 14
    assert settings.verify_signatures is True and settings.kinesis_strict_record_count is False
    assert settings.endpoint_url == "http://127.0.0.1:8080"


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
        ({"LIVEEVENTS_PORT": "eighty"}, "setting 'port': 'eighty' is not a valid int"),
        ({"LIVEEVENTS_VERIFY_SIGNATURES": "maybe"}, "setting 'verify_signatures': 'maybe'"),
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


def test_secrets_are_generated_once_and_environment_wins(tmp_path: Path) -> None:
    first, generated = load_secrets(tmp_path / "data", environ={})
    assert generated
    assert len(first.kinesis_access_key_id) == 20 and first.kinesis_access_key_id.isupper()
    assert stat.S_IMODE((tmp_path / "data" / "secrets.json").stat().st_mode) == 0o600
    again, generated_again = load_secrets(tmp_path / "data", environ={})
    assert (again, generated_again) == (first, False)
    overridden, _ = load_secrets(tmp_path / "data", environ={"LIVEEVENTS_ADMIN_TOKEN": "from-env"})
    assert overridden.admin_token == "from-env" and overridden.ingest_token == first.ingest_token
    assert first.admin_token not in repr(first) and first.kinesis_secret_access_key not in repr(first)


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


def test_serve_reports_a_bad_config_file_as_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("port = [")
    result = CliRunner().invoke(main, ["serve", "--config", str(config), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert "is not valid TOML" in result.output
