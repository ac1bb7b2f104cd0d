"""Rules for the URLs a subscription delivers to, and how they are shown.

Deliveries carry student data, so destinations must be ``https://`` unless the host is this
machine (loopback) or the operator allows plain HTTP (``LIVEEVENTS_ALLOW_HTTP=1``, passed
in as ``allow_http``), and never a link-local address (cloud metadata services).

Host names are judged as written, never resolved here: a DNS answer can change after
validation, so the webhook sender and the notices' client check the addresses they actually
connect to (see ``resolving.py``).  A numeric host is read as the C resolver reads it: besides
the dotted quad, the legacy ``inet_aton`` forms (one to four parts, each decimal, octal
``0...`` or hex ``0x...``: ``2852039166``, ``0xa9fea9fe``, ``0251.0376.0251.0376``,
``169.254.43518`` are all 169.254.169.254), which :mod:`ipaddress` does not accept but
``getaddrinfo`` does.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

__all__ = [
    "LINK_LOCAL_RULE",
    "MASK",
    "destination_problem",
    "host_address",
    "is_link_local_address",
    "is_loopback_host",
    "is_valid_queue_name",
    "link_local_problem",
    "link_local_url_problem",
    "looks_secret",
    "mask_url",
    "mask_urls_in",
    "sqs_queue_name",
    "sqs_region",
    "url_secrets",
]

MASK = "****"
# Names (query parameters, misspelt fields) whose values are likely credentials.
_SECRET_NAME = re.compile(r"token|key|secret|sig|signature|password|passwd|auth|code|bearer|credential", re.IGNORECASE)
# https://sqs.<region>.amazonaws.com/<account>/<queue> and the legacy <region>.queue.amazonaws.com.
_AWS_SQS_HOST = re.compile(r"(?:sqs\.([a-z0-9-]+)|([a-z0-9-]+)\.queue)\.amazonaws\.com(?:\.cn)?")
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_URL_IN_TEXT = re.compile(r"https?://[^\s'\"<>]+", re.IGNORECASE)
# What a URL cannot hold as it is (RFC 3986): clients differ in what they do with it (quote it,
# cut the request line at it, refuse it), so it is refused when the subscription is made.
_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f]")
# What inet_aton may read as an IPv4 address: 1-4 dot-separated numbers, decimal, octal or hex.
# Matched first because some C libraries' inet_aton ignore whatever follows a space.
_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)
# What IDNA reads as a label separator besides '.' (ideographic, fullwidth, halfwidth ideographic).
_IDNA_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
LINK_LOCAL_RULE = "a link-local address (169.254.0.0/16, fe80::/10, where cloud metadata services answer) is not a destination"


def host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a URL's host names as written, or ``None`` for a name.

    An IPv6 literal (with or without its brackets and zone), a dotted quad, or one of the
    legacy forms ``inet_aton`` (and so ``getaddrinfo``) reads: ``2130706433`` and
    ``0x7f.1`` are 127.0.0.1.  A trailing dot is ignored.
    """
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not _LEGACY_IPV4.fullmatch(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:  # out of range ('4294967296'), a bad octal digit ('08'), an empty '0x'
        return None


def is_link_local_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """169.254.0.0/16 and fe80::/10 (also IPv4-mapped, ``::ffff:169.254.169.254``)."""
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_link_local


def is_loopback_host(host: str) -> bool:
    """``localhost``, ``*.localhost`` (RFC 6761), 127.0.0.0/8 and ``::1``, written as usual.

    A legacy numeric spelling (``2130706433``, ``0x7f000001``) is not loopback here: this
    only lifts the https requirement, and plain HTTP is allowed only where it is certain the
    bytes stay on this machine.  Whether such a spelling reaches 127.0.0.1 depends on the
    resolver that reads it (aiohttp refuses the all-digit forms outright; a DNS library may
    look it up as a name), and nobody needs it: ``127.0.0.1`` says the same.
    """
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def link_local_problem(host: str) -> str | None:
    """The rule, naming the address, when ``host`` is a link-local address however written;
    ``None`` otherwise (a name, too: names are judged when the sender resolves them).

    A host with non-ASCII characters is judged as HTTP clients read it too: IDNA maps
    ``１６９.２５４.１６９.２５４`` (fullwidth digits) and ``169。254。169。254`` to 169.254.169.254.
    """
    for reading in _readings(host):
        address = host_address(reading)
        if address is not None and is_link_local_address(address):
            try:
                ipaddress.ip_address(host.strip("[]"))
            except ValueError:  # a legacy or non-ASCII spelling, a trailing dot: say which address it means
                return f"{host} is {address}: {LINK_LOCAL_RULE}"
            return LINK_LOCAL_RULE
    return None


def link_local_url_problem(url: str, *client_readings: Callable[[str], str | None]) -> str | None:
    """The link-local rule when ``url``'s host is a link-local address as written, or as an
    HTTP client reads it: each of ``client_readings`` gives the host the client would connect
    to (``None`` when it cannot read the URL, which it then refuses itself)."""
    try:
        written = urlsplit(url).hostname
    except ValueError:
        written = None
    for host in (written, *(read(url) for read in client_readings)):
        if host and (problem := link_local_problem(host)) is not None:
            return problem
    return None


def _legacy_address_problem(host: str) -> str | None:
    """A numeric host not written as usual (``2130706433``, ``0x7f.1``): HTTP clients differ on
    it (aiohttp refuses the all-digit forms at send, a resolver may read them as a name), so
    it is refused when the subscription is made, saying how to write it."""
    address = host_address(host)
    if address is None or address.version != 4:
        return None
    try:
        ipaddress.ip_address(host.rstrip("."))
    except ValueError:
        return f"{host} is {address}: write an IPv4 address as four decimal numbers, such as {address}"
    return None


def _readings(host: str) -> list[str]:
    """``host`` and, when it is not ASCII, what IDNA (2003: ``str.encode('idna')``; UTS 46, as
    yarl and so aiohttp encode it, is NFKC with case folding) makes of it."""
    if host.isascii():
        return [host]
    readings = [host, unicodedata.normalize("NFKC", host).casefold().translate(_IDNA_DOTS)]
    try:
        readings.append(host.encode("idna").decode("ascii"))
    except UnicodeError:
        pass
    return readings


def destination_problem(url: str, *, allow_http: bool, stored: bool = False) -> str | None:
    """Why ``url`` cannot be delivered to (a rule, for an error message), or ``None``.

    ``stored=True`` judges a stored subscription's URL, which must load (to be seen, fixed or
    deleted) even when it was stored before its host was recognised as link-local or as a legacy
    spelling: those two rules are left out (the sender refuses a link-local host at every send).
    """
    if _NOT_IN_URL.search(url):
        return "a URL holds no spaces or control characters (percent-encode them, e.g. %20)"
    try:
        parts = urlsplit(url)
        _ = parts.port  # a non-numeric or out-of-range port raises here
    except ValueError as error:
        return f"not a valid URL ({error})"
    if parts.scheme not in ("https", "http"):
        return "an absolute https:// URL such as 'https://lrs.example.edu/events'"
    if not parts.hostname:
        return "the URL needs a host"
    # A subscription must not turn the service into a reader of the cloud instance's metadata.
    refusal = (link_local_problem(parts.hostname) or _legacy_address_problem(parts.hostname)) if not stored else None
    if refusal is not None:
        return refusal
    if parts.fragment:
        return "a destination URL has no #fragment"
    if parts.scheme == "http" and not allow_http and not is_loopback_host(parts.hostname):
        return (
            "https:// is required (plain http:// only for a loopback host such as 127.0.0.1, "
            "or when the service runs with LIVEEVENTS_ALLOW_HTTP=1)"
        )
    return None


def looks_secret(name: str) -> bool:
    """Whether a parameter or field called ``name`` probably holds a credential."""
    return bool(_SECRET_NAME.search(name))


def mask_url(url: str) -> str:
    """``url`` with a userinfo password and credential-like query values replaced by ``****``.

    For showing and logging a destination without leaking what operators embed in it; a value
    that does not parse as a URL is hidden whole (where its credentials are cannot be told).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{hostport}" if has_password else netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(looks_secret(name) for name, _ in pairs):
            query = urlencode([(name, MASK if looks_secret(name) else value) for name, value in pairs], safe="*")
    if (netloc, query) == (parts.netloc, parts.query):
        return url  # nothing to mask: shown as written (urlunsplit would normalise it)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_urls_in(text: str) -> str:
    """``text`` (an error message, say) with every http(s) URL in it masked by :func:`mask_url`."""
    return _URL_IN_TEXT.sub(lambda found: mask_url(found.group()), text)


def url_secrets(url: str) -> set[str]:
    """The values :func:`mask_url` hides in ``url`` (the userinfo password, credential-like query
    values), each as written and percent-decoded: for blanking them in text that quotes the URL
    in part (a destination's error answer echoing its request line, ``/hook?token=...``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return set()
    found = []
    userinfo, has_userinfo, _ = parts.netloc.rpartition("@")
    if has_userinfo and ":" in userinfo:
        found.append(userinfo.partition(":")[2])
    for pair in parts.query.split("&"):
        name, _, value = pair.partition("=")
        if looks_secret(unquote_plus(name)):
            found.append(value)
    return {variant for value in found for variant in (value, unquote_plus(value)) if variant}


def sqs_queue_name(url: str) -> str:
    """The queue name: the last segment of the queue URL's path (``''`` when there is none)."""
    return urlsplit(url).path.rstrip("/").rpartition("/")[2]


def is_valid_queue_name(name: str) -> bool:
    """1–80 letters, digits, ``-`` and ``_``, plus ``.fifo`` for a FIFO queue (AWS's rule)."""
    return bool(_QUEUE_NAME.fullmatch(name.removesuffix(".fifo")))


def sqs_region(url: str) -> str | None:
    """The AWS region named by an AWS queue URL's host; ``None`` for other hosts.

    botocore sends every SQS call to the client's endpoint (not to the queue URL's host), so
    a client for the wrong region would fail; the URL says which region is meant.
    """
    match = _AWS_SQS_HOST.fullmatch(urlsplit(url).hostname or "")
    return None if match is None else match.group(1) or match.group(2)
