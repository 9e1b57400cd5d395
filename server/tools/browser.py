"""Look at the viewer page the way a student does: served by Werkzeug, in real headless Chromium.

Debian's chromium package provides the browser; nothing here downloads one. Used by the
browser test and by tools/screenshot.py, which makes the README's picture.
"""

import contextlib
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

SERVER = Path(__file__).resolve().parents[1]
FLAGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--no-first-run',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
]


def chromium():
    """The system's Chromium, or None when it is not installed."""
    return shutil.which('chromium') or shutil.which('chromium-browser')


def capture(url, screenshot=None, size=(1280, 900), wait_ms=None):
    """Load `url` in headless Chromium; return the DOM after scripts ran, save a PNG if asked.

    With `wait_ms`, the page's own timers run for that much (virtual) time first.
    """
    with tempfile.TemporaryDirectory() as profile:
        command = [
            chromium(),
            *FLAGS,
            f'--user-data-dir={profile}',
            f'--window-size={size[0]},{size[1]}',
            '--dump-dom',
            url,
        ]
        if wait_ms:
            command.insert(-2, f'--virtual-time-budget={wait_ms}')
        if screenshot:
            command.insert(-2, f'--screenshot={screenshot}')
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


@contextlib.contextmanager
def serving(app):
    """Serve `app` on a free localhost port with Werkzeug, the server `flask run` uses, in a
    background thread; yields the page's URL."""
    server = make_server('127.0.0.1', 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_port}/'
    finally:
        server.shutdown()
        thread.join(timeout=10)
