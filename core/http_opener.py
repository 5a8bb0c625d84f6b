"""urllib openers for the few requests the function makes itself (a secret, its credentials, its spans).

`urllib.request.urlopen` builds its default opener once, and with it an HTTPS handler whose TLS context
loads the system's CA bundle: ~50 ms of a cold start's CPU (OpenSSL 3 parsing every certificate), paid
even when the request is plain HTTP on loopback, as the Parameters and Secrets extension's and Lambda's
credentials endpoint are. Here a plain-HTTP URL gets an opener with no HTTPS handler at all (a redirect
to HTTPS then fails instead of going unverified), and an HTTPS one gets the process's one verifying
context, made on first use (`tls_context`; `warm_tls_context` makes it in the background).
"""

from __future__ import annotations

import threading
import urllib.request
from typing import Any

_lock = threading.Lock()
_context: Any = None


def tls_context() -> Any:
    """The default verifying TLS context (system CAs, hostname checked), one per process."""
    global _context
    with _lock:
        if _context is None:
            import ssl

            _context = ssl.create_default_context()
        return _context


def warm_tls_context() -> None:
    """Load the CA bundle in a thread while the caller goes on (OpenSSL releases the GIL while it parses),
    so that the first HTTPS request does not wait for it."""
    threading.Thread(target=tls_context, name="tls-context", daemon=True).start()


def opener_for(url: str, *, proxies: dict[str, str] | None = None) -> urllib.request.OpenerDirector:
    """An opener for `url`, honouring the environment's proxies unless `proxies` is given ({}: none)."""
    proxy = urllib.request.ProxyHandler(proxies)
    if url[:6].lower() == "https:":
        return urllib.request.build_opener(proxy, urllib.request.HTTPSHandler(context=tls_context()))
    opener = urllib.request.OpenerDirector()
    for handler in (
        proxy,
        urllib.request.UnknownHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener
