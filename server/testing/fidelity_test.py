"""Schema fidelity: however a database reached a revision, its schema is the same.

Compared by reflection (dbtools/snapshot.py), names included: primary keys, indexes,
constraints and, on PostgreSQL, sequences. A rename that leaves `department_pkey` or
`department_id_seq` behind fails here.
"""

import pytest

from models import db

STEPS = [0, 1, 2, 3, 4]


@pytest.mark.parametrize('step', STEPS)
def test_every_path_to_a_revision_gives_the_fresh_schema(chain, step):
    """Fresh, stepped down from head, and up again from base: one schema."""
    chain.upgrade(chain.rev(step))
    fresh = chain.snapshot().schema()
    chain.climb(4)
    for below in range(3, step - 1, -1):
        chain.downgrade(chain.rev(below))
    assert chain.snapshot().schema() == fresh, f'revision {step}: stepping down differs'
    chain.downgrade('base')
    chain.upgrade(chain.rev(step))
    assert chain.snapshot().schema() == fresh, f'revision {step}: base -> here again differs'


def test_head_is_what_create_all_builds(app, chain):
    """The migrations at head and db.create_all() of the models build the same schema."""
    chain.upgrade('head')
    migrated = chain.snapshot().schema()
    chain.downgrade('base')
    with app.app_context():
        db.create_all()
    assert chain.snapshot().schema() == migrated, 'head differs from db.create_all()'
