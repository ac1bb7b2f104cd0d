"""AWS Signature Version 4 verification for the Kinesis-compatible API (delivery.md §3).

The canonical request is rebuilt over exactly the headers the client names in
``SignedHeaders``; failures raise :class:`SignatureError` carrying the error code and message
AWS gives for the same fault, so SDKs react as they do against AWS (the Ruby SDK corrects its
clock on ``InvalidSignatureException`` "Signature expired" using our ``Date`` header).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, quote

__all__ = ["SECRET_MASK", "SignatureError", "SigV4Verifier", "SIGNING_SERVICE"]

SIGNING_SERVICE = "kinesis"
ALGORITHM = "AWS4-HMAC-SHA256"
MAX_CLOCK_SKEW = timedelta(minutes=5)
SECRET_MASK = "****"  # what :meth:`SigV4Verifier.hide_secrets` puts in a secret's place

_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)


class SignatureError(Exception):
    """An authentication failure: ``code`` is the AWS error code (all answered with HTTP 400).

    ``logged`` is the message as the service log shows it: the answer may quote the client's
    ``Authorization`` header back to it, which can hold a signature or a credential sent by
    mistake (a bare token), and those are never logged.
    """

    def __init__(self, code: str, message: str, *, logged: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.logged = message if logged is None else logged


@dataclass(frozen=True, slots=True)
class _Authorization:
    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: list[str]
    signature: str


class SigV4Verifier:
    """Verifies requests signed with one of ``credentials`` (access key id → secret)."""

    def __init__(self, credentials: Mapping[str, str], regions: Collection[str], *, service: str = SIGNING_SERVICE) -> None:
        self._credentials = dict(credentials)
        self._regions = frozenset(regions)
        self._service = service
        self._keys: dict[tuple[str, str, str], bytes] = {}

    def verify(
        self,
        *,
        method: str,
        path: str,
        query: str,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        now: datetime | None = None,
    ) -> str:
        """Return the access key id of a correctly signed request; raise :class:`SignatureError`."""
        values = _header_values(headers)
        authorization_values = values.get("authorization")
        if not authorization_values:
            raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")
        authorization = _parse_authorization(authorization_values[0])
        _require_signed(authorization.signed_headers, values)
        secret = self._credentials.get(authorization.access_key_id)
        if secret is None:
            raise SignatureError("UnrecognizedClientException", "The security token included in the request is invalid.")

        amz_date = _first(values, "x-amz-date")
        moment = _request_time(amz_date, _first(values, "date"))
        request_stamp = amz_date or moment.strftime("%Y%m%dT%H%M%SZ")
        now = now or datetime.now(timezone.utc)
        if moment < now - MAX_CLOCK_SKEW:
            raise SignatureError(
                "InvalidSignatureException",
                f"Signature expired: {request_stamp} is now earlier than {now - MAX_CLOCK_SKEW:%Y%m%dT%H%M%SZ} ({now:%Y%m%dT%H%M%SZ} - 5 min.)",
            )
        if moment > now + MAX_CLOCK_SKEW:
            raise SignatureError(
                "InvalidSignatureException",
                f"Signature not yet current: {request_stamp} is still later than {now + MAX_CLOCK_SKEW:%Y%m%dT%H%M%SZ} ({now:%Y%m%dT%H%M%SZ} + 5 min.)",
            )
        if authorization.date != request_stamp[:8]:
            raise SignatureError(
                "InvalidSignatureException",
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{authorization.date}' != '{request_stamp[:8]}', from '{request_stamp}'.",
            )
        if authorization.region not in self._regions:
            raise SignatureError("InvalidSignatureException", f"Credential should be scoped to a valid region, not '{authorization.region}'. ")
        if authorization.service != self._service:
            raise SignatureError("InvalidSignatureException", f"Credential should be scoped to correct service: '{self._service}'. ")
        if authorization.terminator != "aws4_request":
            raise SignatureError("InvalidSignatureException", "Credential should be scoped with a valid terminator: 'aws4_request', not "
                                 f"'{authorization.terminator}'. ")

        body_hash = hashlib.sha256(body).hexdigest()
        claimed_hash = _first(values, "x-amz-content-sha256")
        if claimed_hash is not None and not hmac.compare_digest(claimed_hash.strip(), body_hash):
            raise SignatureError("InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed.")

        canonical_headers = []
        for name in authorization.signed_headers:
            header = values.get(name)
            if header is None:
                raise SignatureError("InvalidSignatureException", f"The header '{name}' is named in SignedHeaders but is not in the request.")
            canonical_headers.append(f"{name}:{','.join(' '.join(value.split()) for value in header)}\n")
        canonical_request = "\n".join(
            (
                method,
                _canonical_path(path),
                _canonical_query(query),
                "".join(canonical_headers),
                ";".join(authorization.signed_headers),
                body_hash,
            )
        )
        scope = f"{authorization.date}/{authorization.region}/{authorization.service}/aws4_request"
        string_to_sign = f"{ALGORITHM}\n{request_stamp}\n{scope}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        key = self._signing_key(secret, authorization.date, authorization.region)
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, authorization.signature):
            raise SignatureError("InvalidSignatureException", _MISMATCH)
        return authorization.access_key_id

    def hide_secrets(self, text: str) -> str:
        """``text`` with every secret access key held here replaced by ``****``: a client whose
        key id and secret are swapped sends the secret where the key id goes, and a refusal
        quotes that part of its ``Authorization`` header."""
        for secret in self._credentials.values():
            text = text.replace(secret, SECRET_MASK)
        return text

    def _signing_key(self, secret: str, date: str, region: str) -> bytes:
        # The derived key changes once a day per region: cache it (bounded by days × regions).
        cache_key = (secret, date, region)
        key = self._keys.get(cache_key)
        if key is None:
            key = ("AWS4" + secret).encode()
            for part in (date, region, self._service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            if len(self._keys) > 64:
                self._keys.clear()
            self._keys[cache_key] = key
        return key


def _header_values(headers: Sequence[tuple[bytes, bytes]]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return values


def _first(values: Mapping[str, list[str]], name: str) -> str | None:
    found = values.get(name)
    return found[0] if found else None


def _parse_authorization(header: str) -> _Authorization:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        # A one-word header may be a bare credential: only a scheme followed by more is named.
        shown = f"'{algorithm}'" if rest else "(a single word, not shown)"
        raise SignatureError("IncompleteSignature", f"Unsupported AWS 'algorithm': '{algorithm}'.", logged=f"Unsupported AWS 'algorithm': {shown}.")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, separator, value = item.strip().partition("=")
        if separator:
            parts[name] = value
    for required in ("Credential", "SignedHeaders", "Signature"):
        if required not in parts:
            problem = (
                f"Authorization header requires '{required}' parameter. Authorization header requires existence of either "
                "a 'X-Amz-Date' or a 'Date' header."
            )
            raise SignatureError("IncompleteSignature", f"{problem} Authorization={header.split(',')[0]}", logged=problem)
    credential = parts["Credential"].split("/")
    if len(credential) != 5:
        raise SignatureError(
            "IncompleteSignature", f"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{parts['Credential']}'"
        )
    return _Authorization(*credential, signed_headers=parts["SignedHeaders"].split(";"), signature=parts["Signature"])


def _require_signed(signed_headers: Collection[str], values: Mapping[str, list[str]]) -> None:
    """The headers a signature must cover, or a captured one could be replayed with them changed:
    the host, the request time (its window limits replays) and the operation.  The signed host is
    not compared with ``public_url``: clients may reach this service by other names (an internal
    name, the bind address, a load balancer's), a refusal makes Canvas drop whole batches, and only
    a holder of our own key can sign a call for another name."""
    date_header = ("x-amz-date", "'X-Amz-Date'") if "x-amz-date" in values or "date" not in values else ("date", "'Date'")
    for name, label in (("host", "'Host' or ':authority'"), date_header, ("x-amz-target", "'X-Amz-Target'")):
        if name not in signed_headers:
            raise SignatureError("InvalidSignatureException", f"{label} must be a 'SignedHeader' in the AWS Authorization.")


def _request_time(amz_date: str | None, date: str | None) -> datetime:
    try:
        if amz_date is not None:
            return datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        if date is not None:
            return parsedate_to_datetime(date).astimezone(timezone.utc)
    except (ValueError, TypeError):
        pass
    raise SignatureError(
        "IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header (in ISO 8601 basic format, e.g. 20191101T191105Z)."
    )


def _canonical_path(path: str) -> str:
    return quote(path or "/", safe="/-_.~%")


def _canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return "&".join(f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}" for name, value in sorted(pairs))
