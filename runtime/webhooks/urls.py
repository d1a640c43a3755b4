"""Which URLs a webhook may be sent to: http(s) only, and never an address inside the server's
own network (loopback, private, link-local, reserved) unless the operator allows private
networks (``VECTIS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS``, for development and tests).
Checked when subscribing and again before every send (a name may resolve elsewhere later)."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from runtime.errors import BusinessError
from runtime.webhooks.errors import WebhookErrorCode

MAX_URL_LENGTH = 2000


def check_url(url: str, *, allow_private: bool, field: str = "input.url") -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL_LENGTH or parts.scheme not in ("http", "https") or not parts.hostname:
        raise BusinessError(WebhookErrorCode.INVALID_URL,
                            f"{field}: expected an absolute http(s) URL of at most {MAX_URL_LENGTH} characters",
                            field=field)
    try:
        port = parts.port
    except ValueError:
        raise BusinessError(WebhookErrorCode.INVALID_URL, f"{field}: the port is not a number 0-65535", field=field) from None
    if not allow_private:
        for address in _addresses(parts.hostname, port, field):
            if not address.is_global or address.is_multicast:
                raise BusinessError(WebhookErrorCode.DISALLOWED_ADDRESS,
                                    f"{field}: {parts.hostname} is a non-public address ({address})", field=field)
    return url


def _addresses(host: str, port: int | None, field: str) -> list:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise BusinessError(WebhookErrorCode.INVALID_URL, f"{field}: host {host!r} does not resolve", field=field) from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
