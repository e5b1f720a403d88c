"""Side tables: cleaned once by ``side_table``; ``join_side_table`` cleans one built otherwise."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from recstack.errors import SchemaError
from recstack.experiment.tables import SideTable, join_side_table, side_table

INTER = pd.DataFrame({"item_id": [1, 2, 3]})


def test_a_side_table_built_by_hand_is_cleaned_when_joined(caplog):
    raw = pd.DataFrame({"item_id": [1, 2, 2, None], "title": ["a", "b", "b", "no key"]})
    with caplog.at_level(logging.WARNING, logger="recstack.experiment.tables"):
        out = join_side_table(INTER, SideTable(raw, "item_id"), "items")
    assert out.title.tolist()[:2] == ["a", "b"] and pd.isna(out.title[2]) and len(out) == 3
    assert "1 of 4 rows of the items table have no item_id" in caplog.text
    with pytest.raises(SchemaError, match=r"key 'item_id' is not unique in the items table"):
        join_side_table(INTER, SideTable(raw.fillna({"title": "x"}).assign(title=list("abcd")), "item_id"), "items")
    with pytest.raises(SchemaError, match=r"data\.join\.items\.key: 'id' is not a column of the items table"):
        join_side_table(INTER.rename(columns={"item_id": "id"}), SideTable(raw, "id"), "items")


def test_a_cleaned_side_table_warns_once(caplog):
    raw = pd.DataFrame({"item_id": [1, None], "title": ["a", "no key"]})
    with caplog.at_level(logging.WARNING, logger="recstack.experiment.tables"):
        side = side_table(raw, "item_id", "items")
        join_side_table(INTER, side, "items")
        join_side_table(INTER, side, "items")
    assert caplog.text.count("have no item_id") == 1
    assert side.table.item_id.tolist() == [1]


def test_tables_items_and_users_default_to_the_joins_of_those_names():
    from recstack.experiment.tables import Tables

    items = side_table(pd.DataFrame({"item_id": [1, 2], "title": ["a", "b"]}), "item_id", "items")
    t = Tables(INTER, None, joins={"items": items})
    assert t.items is items.table and t.users is None
    given = pd.DataFrame({"item_id": [1]})
    assert Tables(INTER, None, given, None, {"items": items}).items is given  # given explicitly: kept
