"""Jobs: which kind of caption the model gave (the decoder's sentence, or a hedged sentence of
what the classifier recognised).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 01:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('caption_kind', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('caption_kind')
