"""The viewer's Host check and protective headers (dbtools/guard.py)."""

import re

import pytest

HEADERS = {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-store',
}


@pytest.mark.parametrize('path', ['/', '/schema.json', '/missing'])
def test_protective_headers_on_every_answer(client, path):
    response = client.get(path)
    assert {k: response.headers.get(k) for k in HEADERS} == HEADERS, path
    policy = response.headers['Content-Security-Policy']
    assert re.fullmatch(
        "default-src 'none'; script-src 'nonce-[\\w-]{22}'; style-src 'unsafe-inline'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        policy,
    ), policy


def test_the_page_script_carries_this_answer_s_nonce(client):
    """The policy allows only a script with the nonce of its own answer, fresh each time."""
    nonces = []
    for _ in range(2):
        response = client.get('/')
        nonce = re.search(r"'nonce-([\w-]+)'", response.headers['Content-Security-Policy'])[1]
        assert response.get_data(as_text=True).count(f'<script nonce="{nonce}">') == 1
        assert response.get_data(as_text=True).count('<script') == 1
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


@pytest.mark.parametrize(
    'host', ['localhost:5555', 'LOCALHOST', '127.0.0.1:5555', '[::1]:5555', '192.168.1.5:5555']
)
def test_requests_addressed_to_this_machine_are_answered(client, host):
    assert client.get('/', headers={'Host': host}).status_code == 200, host
    assert client.get('/schema.json', headers={'Host': host}).status_code == 200, host


@pytest.mark.parametrize(
    'host', ['evil.example:5555', 'localhost.evil.example', '127.0.0.1.nip.example', '[bad']
)
@pytest.mark.parametrize('path', ['/', '/schema.json'])
def test_requests_addressed_to_another_name_are_refused(client, host, path):
    """A DNS-rebinding page reaches 127.0.0.1 under its own name, which is refused."""
    response = client.get(path, headers={'Host': host})
    what = (
        'this viewer only answers requests addressed to localhost or an IP address, '
        f'not to {host!r}'
    )
    hint = 'open http://localhost:80/ (or set SERVER_NAME to serve it under another name)'
    assert response.status_code == 400, host
    if path == '/':
        assert response.get_data(as_text=True) == f'Error: {what}\nHint: {hint}\n'
        assert response.mimetype == 'text/plain'
    else:
        assert response.get_json() == {'error': what, 'hint': hint}
    assert response.headers['X-Content-Type-Options'] == 'nosniff'


def test_server_name_allows_that_name_too(make_app):
    client = make_app(SERVER_NAME='lesson.test:5555').test_client()
    assert client.get('/', headers={'Host': 'lesson.test:5555'}).status_code == 200
    assert client.get('/', headers={'Host': 'evil.example:5555'}).status_code == 400
