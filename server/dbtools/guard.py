"""What keeps the viewer to this machine and to its own page: a Host check and safe headers.

Registered by viewer.py for every answer of the app, errors included.
"""

import ipaddress
import secrets
from urllib.parse import urlsplit

from flask import current_app, g, jsonify, request

LOCAL_NAMES = {'localhost', '127.0.0.1', '::1'}


def only_local_hosts():
    """Refuse requests addressed to another name (400), so DNS rebinding cannot read the page.

    A page on another site can point its own name at 127.0.0.1, but the browser still sends
    that name as the Host. Allowed: localhost, any IP address (a name is needed to rebind),
    and SERVER_NAME when the app is configured to be served under a name of its own.
    """
    g.csp_nonce = secrets.token_urlsafe(16)
    host = _host_name(request.host)
    configured = _host_name(current_app.config.get('SERVER_NAME') or '')
    if host and (host in LOCAL_NAMES or _is_address(host) or host == configured):
        return None
    port = request.environ.get('SERVER_PORT', '5555')
    return plain_answer(
        f'this viewer only answers requests addressed to localhost or an IP address, '
        f'not to {request.headers.get("Host", "")!r}',
        f'open http://localhost:{port}/ (or set SERVER_NAME to serve it under another name)',
        400,
    )


def protective_headers(response):
    """No sniffing, no framing, no referrer, no caching; scripts only this page's own."""
    nonce = g.get('csp_nonce', '')
    response.headers.update(
        {
            'Content-Security-Policy': (
                f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
                "connect-src 'self'; base-uri 'none'; form-action 'none'; "
                "frame-ancestors 'none'"
            ),
            'X-Content-Type-Options': 'nosniff',
            'X-Frame-Options': 'DENY',
            'Referrer-Policy': 'no-referrer',
            'Cross-Origin-Resource-Policy': 'same-origin',
            'Cache-Control': 'no-store',
        }
    )
    return response


def plain_answer(what, hint, status, **headers):
    """An error as JSON for /schema.json, as two plain lines of text for the rest."""
    if request.path.endswith('.json'):
        response = jsonify(error=what, hint=hint)
    else:
        response = current_app.response_class(
            f'Error: {what}\nHint: {hint}\n', mimetype='text/plain'
        )
    response.status_code = status
    response.headers.update(headers)
    return response


def _host_name(host):
    """'localhost:5555' -> 'localhost', '[::1]:5555' -> '::1'; '' if it does not parse."""
    try:
        return (urlsplit(f'//{host}').hostname or '').rstrip('.')
    except ValueError:
        return ''


def _is_address(host):
    """Whether `host` is an IP address rather than a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
