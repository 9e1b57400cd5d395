"""Make the README's picture of the viewer page, with the same browser the tests use.

It shows what a student sees: the database at instance/app.db (DATABASE_URL is ignored here),
brought to head with the lesson's rows exactly as a student would (`flask db upgrade`,
`flask seed`, which adds nothing the second time), and the last revision opened to show its
code and SQL.

    cd server && python -m tools.screenshot            # writes docs/viewer.png
"""

import os
import subprocess
import sys
from pathlib import Path

from tools import browser

OUT = browser.SERVER / 'docs' / 'viewer.png'


def main(out=OUT):
    """Bring instance/app.db to head, serve it and save the screenshot at `out`."""
    if browser.chromium() is None:
        sys.exit('Error: Chromium is not installed\n  Hint: apt-get install chromium')
    env = {k: v for k, v in os.environ.items() if k != 'DATABASE_URL'}
    for args in (['db', 'upgrade'], ['seed']):
        subprocess.run(
            [sys.executable, '-m', 'flask', *args],
            cwd=browser.SERVER,
            env=env,
            check=True,
            capture_output=True,
        )
    os.environ.pop('DATABASE_URL', None)
    sys.path.insert(0, str(browser.SERVER))
    from app import create_app
    from dbtools import migration_sql

    app = create_app()
    with app.app_context():
        head = migration_sql.scripts().get_current_head()
    with browser.serving(app) as page:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        browser.capture(f'{page}#rev-{head}', screenshot=out, size=(1100, 1000))
    print(f'wrote {out}')


if __name__ == '__main__':
    main(*sys.argv[1:])
