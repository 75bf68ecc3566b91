"""ssda903 returns kept whole: an episode row per return, the file row it came from, and the
kind of each import run

Until now an episode open across years was stored once, as the latest return gave it. From
here each return is kept whole, so each speaks for its own year. The earlier returns are
rebuilt from what is stored: for every year from an authority's first stored return to its
last, each episode open at some time in that year is copied into that year's return, its end
blanked (and the 18th-birthday flag cleared) when it ended after the year, as the DfE returns
write it. The copies carry the values of the latest return (the merged rows kept no other),
and years between the first and last return are taken as loaded, since the merged rows could
not tell a year that was skipped; a council can replace any year whose file it still has.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 23:30:00
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COPIED = (
    "authority_code",
    "child_key",
    "decom",
    "rne",
    "ls",
    "cin",
    "place",
    "place_provider",
    "reason_place_change",
    "pl_la",
    "age_at_start",
    "period_start",
)
episode = sa.table(
    "ssda903_episode",
    *(sa.column(name) for name in COPIED),
    sa.column("dec", sa.Date()),
    sa.column("rec", sa.String()),
    sa.column("ceased_at_18", sa.Boolean()),
    sa.column("source_year", sa.Integer()),
)


def _rebuild_earlier_returns() -> None:
    """Copy each episode into every earlier return (of the years stored) that carried it."""
    bind = op.get_bind()
    spans = bind.execute(
        sa.select(
            episode.c.authority_code,
            sa.func.min(episode.c.source_year),
            sa.func.max(episode.c.source_year),
        ).group_by(episode.c.authority_code)
    ).all()
    for code, first, last in spans:
        for year in range(first, last):
            start, end = date(year - 1, 4, 1), date(year, 3, 31)
            ended_in_year = sa.and_(episode.c.dec.is_not(None), episode.c.dec <= end)
            rows = sa.select(
                *(episode.c[name] for name in COPIED),
                sa.case((ended_in_year, episode.c.dec), else_=None),
                sa.case((ended_in_year, episode.c.rec), else_=None),
                sa.case((ended_in_year, episode.c.ceased_at_18), else_=sa.false()),
                sa.literal(year, sa.Integer()),
            ).where(
                episode.c.authority_code == code,
                episode.c.source_year > year,
                episode.c.decom <= end,
                sa.or_(episode.c.dec.is_(None), episode.c.dec >= start),
            )
            bind.execute(
                episode.insert().from_select(
                    [*COPIED, "dec", "rec", "ceased_at_18", "source_year"], rows
                )
            )


def upgrade() -> None:
    with op.batch_alter_table("ssda903_episode", schema=None) as batch_op:
        batch_op.drop_index("ix_903_episode_dec")
        batch_op.drop_index("ix_903_episode_asat")
        batch_op.drop_constraint("uq_903_episode", type_="unique")
        batch_op.add_column(sa.Column("source_row", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            "uq_903_episode", ["authority_code", "source_year", "child_key", "decom"]
        )
        batch_op.create_index(
            "ix_903_episode_decom", ["authority_code", "source_year", "decom"], unique=False
        )
        batch_op.create_index(
            "ix_903_episode_dec", ["authority_code", "source_year", "dec"], unique=False
        )
        batch_op.create_index("ix_903_episode_child", ["authority_code", "child_key"], unique=False)
    with op.batch_alter_table("ssda903_import", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("action", sa.String(length=10), nullable=False, server_default="import")
        )
    _rebuild_earlier_returns()


def downgrade() -> None:
    # Back to one row per episode: the latest return's version of each.
    later = sa.alias(episode, "later")
    op.get_bind().execute(
        episode.delete().where(
            sa.exists().where(
                later.c.authority_code == episode.c.authority_code,
                later.c.child_key == episode.c.child_key,
                later.c.decom == episode.c.decom,
                later.c.source_year > episode.c.source_year,
            )
        )
    )
    with op.batch_alter_table("ssda903_import", schema=None) as batch_op:
        batch_op.drop_column("action")
    with op.batch_alter_table("ssda903_episode", schema=None) as batch_op:
        batch_op.drop_index("ix_903_episode_child")
        batch_op.drop_index("ix_903_episode_dec")
        batch_op.drop_index("ix_903_episode_decom")
        batch_op.drop_constraint("uq_903_episode", type_="unique")
        batch_op.drop_column("source_row")
        batch_op.create_unique_constraint(
            "uq_903_episode", ["authority_code", "child_key", "decom"]
        )
        batch_op.create_index("ix_903_episode_dec", ["authority_code", "dec"], unique=False)
        batch_op.create_index(
            "ix_903_episode_asat", ["authority_code", "decom", "dec"], unique=False
        )
