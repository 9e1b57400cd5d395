"""What MySQL and MariaDB need that SQLite and PostgreSQL do not, kept out of the lesson's code.

- A VARCHAR needs a length there. The lesson writes `db.String` and autogenerate writes
  `sa.String()`, both without one, so on these two dialects a String without a length is
  compiled as VARCHAR(255). Because the models compile the same way, `flask db check` compares
  VARCHAR(255) with VARCHAR(255) and stays clean. The snapshot shows it as VARCHAR again
  (lesson_type), so the viewer, the lesson's facts and the tests read alike on every backend.
- Renaming a column is CHANGE COLUMN, which restates the whole column: Alembic needs
  `existing_type=` for it. `explain()` turns Alembic's complaint into one line and a hint.
"""

import copy
import re

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

DIALECTS = ('mysql', 'mariadb')
DEFAULT_LENGTH = 255


@compiles(sa.String, *DIALECTS)
@compiles(sa.VARCHAR, *DIALECTS)  # autogenerate writes sa.VARCHAR() when it reflects SQLite
@compiles(sa.Unicode, *DIALECTS)
def _string_with_a_length(type_, compiler, **kw):
    """VARCHAR(255) for a String without a length; anything else as the dialect writes it."""
    if type_.length is None:
        type_ = copy.copy(type_)
        type_.length = DEFAULT_LENGTH
    return getattr(compiler, f'visit_{type_.__visit_name__}')(type_, **kw)


def is_mysql(dialect):
    """Whether `dialect` (or a connection's or engine's) is MySQL or MariaDB."""
    return getattr(dialect, 'dialect', dialect).name in DIALECTS


def lesson_type(type_name, dialect):
    """A reflected type as the models write it, the same on every backend.

    VARCHAR(255) is what a String without a length becomes here (see above), and the INTEGER(11)
    MariaDB reports carries a display width that changes nothing.
    """
    if not is_mysql(dialect):
        return type_name
    if type_name == f'VARCHAR({DEFAULT_LENGTH})':
        return 'VARCHAR'
    return re.sub(r'^((?:TINY|SMALL|MEDIUM|BIG)?INT(?:EGER)?)\(\d+\)', r'\1', type_name)


def explain(message):
    """(what, hint) for Alembic's MySQL-only complaints, or None."""
    if 'require the existing type' in message:
        return (
            'on MySQL and MariaDB, renaming or changing a column restates its whole '
            'definition, so op.alter_column needs the column type it has now',
            'add existing_type= to that op.alter_column, e.g. existing_type=sa.String() '
            '(and existing_nullable=False for a NOT NULL column), then run the command again',
        )
    return None
