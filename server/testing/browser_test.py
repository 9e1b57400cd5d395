"""The viewer in a real browser: Debian's headless Chromium against the served app
(tools/browser.py)."""

import pytest
from flask import request

from dbtools import errors, lesson, viewer
from models import db
from tools import browser

pytestmark = pytest.mark.skipif(
    browser.chromium() is None, reason='Chromium is not installed: apt-get install chromium'
)


def test_the_page_shows_each_revision_in_chromium(app, chain, tmp_path):
    chain.climb(2)
    with browser.serving(app) as url:
        # /#rev-<id> opens that revision, as a student's click on it does.
        before = browser.capture(
            f'{url}#rev-{chain.rev(4)}', screenshot=tmp_path / 'revision-2.png'
        )
        chain.upgrade('head')
        after = browser.capture(url, screenshot=tmp_path / 'head.png')

    assert '<h2 id="table-department">department' in before, 'revision 2: department table'
    assert '<th>address<small>VARCHAR · nullable</small></th>' in before
    assert '<td>Building A, 4th Floor</td>' in before and '<td>Kai Uri</td>' in before
    opened = before.split(f'<details id="rev-{chain.rev(4)}" open="">')[1].split('</details>')[0]
    with app.app_context():
        sql = lesson.SQL[db.engine.dialect.name][4][0]
    assert f'<pre class="sql"><code>{sql}</code></pre>' in opened, 'revision 4: its SQL'
    assert "'departments', 'address', new_column_name='location', existing_type" in opened
    assert f'<details id="rev-{chain.rev(3)}" open="">' in before, 'the next revision is open'
    assert f'<details id="rev-{chain.rev(3)}" open="">' not in after, 'applied, so not next'
    assert '<h2 id="table-departments">departments' in after, 'head: departments table'
    assert '<th>location<small>VARCHAR · nullable</small></th>' in after
    assert 'table-department"' not in after and '<td>Alena Lee</td>' in after
    for shot in ('revision-2.png', 'head.png'):
        png = (tmp_path / shot).read_bytes()
        assert png[:8] == b'\x89PNG\r\n\x1a\n', f'{shot} is not a PNG'
        width, height = int.from_bytes(png[16:20], 'big'), int.from_bytes(png[20:24], 'big')
        assert (width, height) == (1280, 900), f'{shot} is {width}x{height}'


def test_the_page_reloads_itself_when_the_database_changes(app, chain):
    """The page polls /schema.json; the database is upgraded right after its first poll."""
    chain.climb(2)
    polls = []

    @app.after_request
    def upgrade_after_the_first_poll(response):
        if request.path == '/schema.json' and not polls:
            polls.append(response)
            chain.upgrade('head')
        return response

    with browser.serving(app) as url:
        page = browser.capture(url, wait_ms=5000)
    assert polls, 'the page never polled /schema.json'
    assert '<h2 id="table-departments">departments' in page, 'the page did not reload'
    assert '<th>location<small>VARCHAR · nullable</small></th>' in page


def test_a_tab_on_a_503_reloads_itself_into_the_page(app, chain, monkeypatch):
    """A migration made the first read impossible; the Refresh header brings the page back."""
    chain.climb(4)
    real, calls = viewer.current_snapshot, []

    def busy_at_first():
        calls.append(request.path)
        if len(calls) == 1:
            raise errors.Explained('could not read a consistent snapshot', 'a migration is running')
        return real()

    monkeypatch.setattr(viewer, 'current_snapshot', busy_at_first)
    with browser.serving(app) as url:
        page = browser.capture(url, wait_ms=5000)
    assert calls[:2] == ['/', '/'], calls
    assert '<h2 id="table-departments">departments' in page, 'the 503 page did not reload'
