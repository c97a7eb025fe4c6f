"""Provider feed rows (carers' centre, community equipment) as CLD rows.

Filled in once the feed reader's FeedResult shape is fixed (pipelines/feeds.py).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pipelines.transform.common import Context


def feed_rows(feeds: Any, ctx: Context) -> list[pl.LazyFrame]:
    if feeds is None:
        return []
    return []
