"""Make the README's picture of the viewer page, with the same browser the tests use.

A scratch SQLite database is migrated to head and given the lesson's rows, exactly as a student
would (`flask db upgrade`, `flask seed`), then the app is served to headless Chromium.

    cd server && python -m tools.screenshot            # writes docs/viewer.png
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tools import browser

OUT = browser.SERVER / 'docs' / 'viewer.png'


def main(out=OUT):
    """Build the scratch database, serve it and save the screenshot at `out`."""
    if browser.chromium() is None:
        sys.exit('Error: Chromium is not installed\n  Hint: apt-get install chromium')
    with tempfile.TemporaryDirectory() as scratch:
        url = f'sqlite:///{Path(scratch) / "lesson.db"}'
        env = {**os.environ, 'DATABASE_URL': url}
        for args in (['db', 'upgrade'], ['seed']):
            subprocess.run(
                [sys.executable, '-m', 'flask', *args],
                cwd=browser.SERVER,
                env=env,
                check=True,
                capture_output=True,
            )
        sys.path.insert(0, str(browser.SERVER))
        from app import create_app

        with browser.serving(create_app({'SQLALCHEMY_DATABASE_URI': url})) as page:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            browser.capture(page, screenshot=out, size=(1100, 860))
    print(f'wrote {out}')


if __name__ == '__main__':
    main(*sys.argv[1:])
