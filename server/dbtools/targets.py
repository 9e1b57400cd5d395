"""Where `flask db upgrade X`, `downgrade X` and `rehearse X` would take the database, checked
before anything runs, so that a target that cannot work is told in one line.

Alembic's forms are kept: head, base, an id or a unique prefix of one, +N and -N from the
current revision, and X+N / X-N from any of those. Branched histories, branch labels and
ranges are left to Alembic itself.
"""

import re

from dbtools.errors import Explained, missing_file

FORM = re.compile(r'^(?P<anchor>[^+\-@:]*)(?P<offset>[+-]\d+)?$')
LIST_HINT = '`flask db history` lists the revisions; `flask db current` shows where you are'


def destination(script, current, target):
    """The position (0 = base, k = k-th revision) `target` names, and the chain base->head.

    None where the history is not one straight line or the form is not ours to judge.
    """
    order = [r.revision for r in reversed(list(script.walk_revisions()))]
    if len(script.get_heads()) > 1 or len(current) > 1:
        return None
    if target.startswith('--'):
        raise Explained(f'there is no option {target}', "the command's --help lists its options")
    if not target.strip():
        raise Explained(
            "no revision given: '' names nothing", f'use head, base, +1, -1 or an id; {LIST_HINT}'
        )
    form = FORM.match(target.strip())
    if form is None:
        return None
    if current and current[0] not in order:
        raise missing_file(current[0])
    here = order.index(current[0]) + 1 if current else 0
    anchor, offset = form.group('anchor'), int(form.group('offset') or 0)
    if anchor == '':
        start = here
    elif anchor in ('head', 'heads'):
        start = len(order)
    elif anchor == 'base':
        start = 0
    else:
        found = script.get_revision(anchor)  # Alembic's own errors for unknown or ambiguous ids
        if found is None or found.revision not in order:
            return None
        start = order.index(found.revision) + 1
    return start + offset, here, order


def check(script, current, target, command):
    """Raise Explained if `flask db <command> <target>` cannot do what it says; else return
    the revision id (or 'base') it goes to, or None where Alembic should judge."""
    found = destination(script, current, target)
    if found is None:
        return None
    goal, here, order = found
    where = _label(here, order)
    if goal > len(order):
        raise Explained(
            f'{target} goes past the last revision: there are {len(order)}, '
            f'and the database is at {where}',
            f'`flask db upgrade` goes to the last one (head); {LIST_HINT}',
        )
    if goal < 0 and command == 'downgrade' and here == 0:
        raise Explained(
            'the database is already at base (empty): there is nothing to downgrade',
            '`flask db upgrade` applies the revisions; `flask db current` shows where you are',
        )
    if goal < 0:
        raise Explained(
            f'{target} goes below base: the database is at {where}',
            f'`flask db downgrade base` undoes every revision; {LIST_HINT}',
        )
    if command == 'upgrade' and goal < here:
        raise Explained(
            f'{target} is below the database, which is at {where}: upgrade only goes up',
            f'to go down, run `flask db downgrade {target}`',
        )
    if command == 'downgrade' and goal > here:
        raise Explained(
            f'{target} is above the database, which is at {where}: downgrade only goes down',
            f'to go up, run `flask db upgrade {target}`',
        )
    return order[goal - 1] if goal else 'base'


def _label(position, order):
    """'base (empty)' or 'revision 51f20aa4768b (2 of 4)'."""
    if position == 0:
        return 'base (empty)'
    return f'revision {order[position - 1]} ({position} of {len(order)})'
