"""rename department

Revision ID: 1694ecedb24d
Revises: 51f20aa4768b
Create Date: 2023-06-19 15:10:43.611386

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1694ecedb24d'
down_revision = '51f20aa4768b'
branch_labels = None
depends_on = None


def upgrade():
    # Hand-edited: autogenerate wrote create 'departments' + drop 'department': every row lost.
    op.rename_table('department', 'departments')
    # PostgreSQL names the primary key and the id sequence after the table: rename them too.
    if op.get_context().dialect.name == 'postgresql':
        op.execute('ALTER INDEX department_pkey RENAME TO departments_pkey')
        op.execute('ALTER SEQUENCE department_id_seq RENAME TO departments_id_seq')


def downgrade():
    # Hand-edited: the exact reverse of upgrade(), so the rows come back under the old name.
    op.rename_table('departments', 'department')
    if op.get_context().dialect.name == 'postgresql':
        op.execute('ALTER INDEX departments_pkey RENAME TO department_pkey')
        op.execute('ALTER SEQUENCE departments_id_seq RENAME TO department_id_seq')
