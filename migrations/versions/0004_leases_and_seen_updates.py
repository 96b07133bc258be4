"""Jobs: claims with leases (worker, lease_until) for several workers; updates seen by webhook
replicas.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('worker', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('lease_until', sa.DateTime(), nullable=True))
    op.create_table(
        'seen_updates',
        sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('update_id'),
    )
    op.create_index('ix_seen_updates_seen_at', 'seen_updates', ['seen_at'])


def downgrade() -> None:
    op.drop_index('ix_seen_updates_seen_at', table_name='seen_updates')
    op.drop_table('seen_updates')
    # claims in flight go back to the step before them
    op.execute("UPDATE jobs SET status = 'queued' WHERE status = 'running'")
    op.execute("UPDATE jobs SET status = 'captioned' WHERE status = 'replying'")
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('lease_until')
        batch.drop_column('worker')
