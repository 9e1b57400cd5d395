"""Look at the viewer page the way a student does: `flask run` and a real headless Chromium.

Debian's chromium package provides the browser; nothing here downloads one. Used by the
browser test and by tools/screenshot.py, which makes the README's picture.
"""
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SERVER = Path(__file__).resolve().parents[1]
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--no-first-run', '--disable-component-update', '--disable-sync', '--hide-scrollbars']


def chromium():
    """The system's Chromium, or None when it is not installed."""
    return shutil.which('chromium') or shutil.which('chromium-browser')


def capture(url, screenshot=None, size=(1280, 900)):
    """Load `url` in headless Chromium; return the DOM after scripts ran, save a PNG if asked."""
    with tempfile.TemporaryDirectory() as profile:
        command = [chromium(), *FLAGS, f'--user-data-dir={profile}',
                   f'--window-size={size[0]},{size[1]}', '--dump-dom', url]
        if screenshot:
            command.insert(-2, f'--screenshot={screenshot}')
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


@contextlib.contextmanager
def serving(database_url):
    """`flask run` on a free localhost port against `database_url`; yields the page's URL."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    env = {**os.environ, 'DATABASE_URL': database_url}
    server = subprocess.Popen(
        [sys.executable, '-m', 'flask', '--app', str(SERVER / 'app.py'), 'run', '--port',
         str(port)], cwd=SERVER, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}/'
    try:
        _wait_for(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for(url, server, seconds=20):
    """Return once `url` answers; fail if the server exits or takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f'flask run exited with status {server.returncode}')
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2):
                return
        time.sleep(0.1)
    raise RuntimeError(f'flask run did not answer at {url} within {seconds} s')
