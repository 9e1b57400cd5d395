import os
from pathlib import Path

from flask import Flask
from flask_migrate import Migrate

import dbtools
from models import db

HERE = Path(__file__).parent


def create_app(test_config=None):
    """Build the lesson's app; tests pass a mapping of config overrides."""
    app = Flask(__name__)
    app.config.from_mapping(
        # DATABASE_URL picks another database; by default it is instance/app.db.
        SQLALCHEMY_DATABASE_URI=os.environ.get('DATABASE_URL', 'sqlite:///app.db'),
        MIGRATIONS_DIR=HERE / 'migrations',
    )
    if test_config:
        app.config.from_mapping(test_config)
    app.json.compact = False

    # The viewer page, `flask schema`, `flask seed` and `flask db rehearse`.
    dbtools.init_app(app)
    db.init_app(app)
    Migrate(app, db, directory=app.config['MIGRATIONS_DIR'])
    return app


app = create_app()

if __name__ == '__main__':
    app.run(port=5555)
