"""The management API of a running service, for the commands that go through it.

The URL defaults to the service's own settings (``--config``, ``LIVEEVENTS_*``), the admin
token to ``LIVEEVENTS_ADMIN_TOKEN`` or the data dir's ``secrets.json``; so the commands work
the same with SQLite or PostgreSQL, locally or remotely.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx

from liveevents.config import ENV_PREFIX, SECRETS_FILE, ConfigError, load_settings, read_secret

__all__ = ["ApiClient", "api_options"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class ApiClient:
    """Where the service is and the admin token, from the options or the service's settings;
    resolved at the first request (so that ``--help`` needs neither)."""

    url: str | None = None
    token: str | None = None
    data_dir: Path | None = None
    config_file: Path | None = None
    _resolved: tuple[str, str] | None = field(default=None, repr=False)
    _token_source: str = field(default="", repr=False)

    def resolve(self) -> tuple[str, str]:
        """(service URL, admin token); a UsageError when there is no token."""
        if self._resolved is None:
            try:
                settings = load_settings({"data_dir": self.data_dir}, config_file=self.config_file)
            except ConfigError as error:
                raise click.UsageError(str(error)) from None
            token = self.token or read_secret("admin_token", settings.data_dir)
            if not token:
                raise click.UsageError(
                    "no admin token: set LIVEEVENTS_ADMIN_TOKEN, pass --token, or point --data-dir at the "
                    f"service's data dir (looked in {settings.data_dir})"
                )
            self._token_source = _token_source(self.token, settings.data_dir)
            self._resolved = ((self.url or settings.endpoint_url).rstrip("/"), token)
        return self._resolved

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body=body)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """The JSON answer (``None`` for 204); a ClickException naming what went wrong otherwise."""
        url, token = self.resolve()
        query = {name: value for name, value in (params or {}).items() if value not in (None, ())}
        try:
            response = httpx.request(method, url + path, params=query, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        except httpx.TransportError as error:
            raise click.ClickException(f"cannot reach liveevents at {url} ({error}); is 'liveevents serve' running?") from None
        if response.status_code == 401:
            # The usual cause is a token and a service that do not belong together (a --data-dir of
            # a service on another port): say which token went where.
            raise click.ClickException(
                f"the admin token ({self._token_source}) was refused by {url}; "
                "pass the service's --url, or its token with LIVEEVENTS_ADMIN_TOKEN or --token"
            )
        if response.status_code >= 400:
            raise click.ClickException(_error_text(path, response))
        return None if response.status_code == 204 else response.json()


def _token_source(option: str | None, data_dir: Path) -> str:
    """Where :meth:`ApiClient.resolve` took the token (the order of ``read_secret``)."""
    if option:
        return "from --token"
    if os.environ.get(ENV_PREFIX + "ADMIN_TOKEN"):
        return f"from {ENV_PREFIX}ADMIN_TOKEN"
    return f"from {data_dir / SECRETS_FILE}"


def _error_text(path: str, response: httpx.Response) -> str:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return f"{path}: HTTP {response.status_code}: {response.text}"
    answer = response.json()
    lines = [f"{path}: HTTP {response.status_code}: {answer.get('detail', response.text)}"]
    for problem in answer.get("problems", ()):
        line = f"  {problem['field'] or '(body)'}: {problem['value']!r}: {problem['rule']}"
        if problem.get("allowed"):
            line += f"\n    valid: {', '.join(problem['allowed'])}"
        lines.append(line)
    return "\n".join(lines)


def api_options(function: F) -> F:
    """Add ``--url``, ``--token``, ``--data-dir`` and ``--config`` to a command, which then
    receives ``api: ApiClient`` instead."""

    @click.option("--url", envvar="LIVEEVENTS_URL", default=None,
                  help="Service URL [default: LIVEEVENTS_URL, else from the service settings, http://127.0.0.1:8080].")
    @click.option("--token", default=None, help="Admin token [default: LIVEEVENTS_ADMIN_TOKEN, else <data dir>/secrets.json].")
    @click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="The service's data dir (for its settings and token).")
    @click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="The service's TOML settings file.")
    @functools.wraps(function)
    def command(*args: Any, url: str | None, token: str | None, data_dir: Path | None, config_file: Path | None, **kwargs: Any) -> Any:
        return function(*args, api=ApiClient(url, token, data_dir, config_file), **kwargs)

    return command  # type: ignore[return-value]
