"""``Recommender``: a loaded model answering on RAW inputs (IDs and values as in the data)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from recstack.artifacts.candidates import CandidateRows
from recstack.artifacts.exclusions import Exclusions
from recstack.artifacts.queries import QueryEncoder, QueryInput
from recstack.artifacts.requests import check_ids, frame, id_list, undescribed_rows
from recstack.artifacts.timeline import Timeline
from recstack.errors import ConfigError, UnknownIDError
from recstack.index import ExactIndex
from recstack.metrics import EXCLUDE_ENTRIES, RANK_CHUNK, ExclusionLists, PositiveRanker
from recstack.models.two_tower import TwoTower
from recstack.preprocessing import Preprocessor
from recstack.preprocessing.keys import KeyIndex
from recstack.tasks.retrieval_eval import TIE_SAMPLE, warn_if_not_finite, warn_if_tied

__all__ = ["Recommender", "undescribed_rows"]

logger = logging.getLogger(__name__)

SEARCH_CHUNK = 8192  # queries searched at once (their exclusion lists exist only then)


class Recommender:
    """Top-K recommendations, scores and similar items from a trained two-tower model.

    Built by :func:`recstack.load` (or :meth:`RetrievalExperiment.recommender` right after training).
    Queries may be given as raw user IDs (their feature rows are looked up among the
    users seen in training), as row dicts, or as a DataFrame with the query features'
    columns.

    Cold start: a query is *cold* when its ID was not seen in training, is not in the
    model's users table (users-table rows of users training never saw are stored:
    :attr:`side_queries`) and it gives no query feature besides that ID, so nothing is
    known about it. With
    ``cold_start="average"`` (the default) it gets the mean query vector of the known
    users: the model's answer for a typical user. With ``"oov"`` it goes through the model
    with its OOV index and default features (OOV rows start at zero and training never
    updates them, so with nothing else every item scores the same and the list is catalogue
    order). A query that gives other features (e.g. age, or a history with an item seen in
    training) always goes through the model. :meth:`recommend` and :meth:`score` log one
    warning per call with cold queries (how many, the first IDs); :meth:`rank` does not (an
    evaluation reports its unknown users itself).

    Scores are float32 dot products: the same user's scores can differ in the last digits
    (about 1e-6) between a request alone and one in a batch (different BLAS kernels), which
    can swap items whose scores are that close.

    Example:
        >>> rec = recstack.load("runs/ml100k")                      # doctest: +SKIP
        >>> rec.recommend(["42", "7"], k=5, exclude="seen")         # doctest: +SKIP
           user_id  rank  item_id     score
        0       42     1      313  4.21...
    """

    def __init__(
        self,
        *,
        model: TwoTower,
        preprocessor: Preprocessor,
        candidate_ids: Sequence[Any],
        candidate_embeddings: torch.Tensor,
        query_column: str,
        known_queries: pd.DataFrame | None = None,
        seen: tuple[torch.Tensor, torch.Tensor] | None = None,
        metadata: Mapping[str, Any] | None = None,
        side_queries: pd.DataFrame | None = None,
        candidate_index: KeyIndex | None = None,
        timeline: Timeline | None = None,
    ) -> None:
        self.model = model.eval()
        self.preprocessor = preprocessor
        self.candidate_ids = list(candidate_ids)
        self.index = ExactIndex(candidate_embeddings, self.candidate_ids)
        self.query_column = query_column
        self.seen = seen  # CSR (offsets over known_queries rows, candidate rows)
        self.timeline = timeline  # known users' training items and times (data.history.eval_history: before)
        self.metadata = dict(metadata or {})
        # the catalogue's IDs by canonical key: the index load built and checked (naming the file),
        # else built here, lenient: models saved before IDs were checked may hold a missing or repeated ID
        self._cand_pos = candidate_index if candidate_index is not None else KeyIndex(
            self.candidate_ids, column=model.candidate_key, lenient=True)
        self.queries = QueryEncoder(model=self.model, preprocessor=preprocessor, query_column=query_column,
                                    known_queries=known_queries, history_column=self.history_column,
                                    side_queries=side_queries)
        self.exclusions = Exclusions(preprocessor=preprocessor, seen=seen, candidates=self._cand_pos,
                                     query_features=self.query_features, history_column=self.history_column)
        self.candidate_rows = CandidateRows(model=self.model, preprocessor=preprocessor,
                                            integer_keys=pd.api.types.infer_dtype(list(candidate_ids)) == "integer")
        self._cand_array: np.ndarray | None = None

    # ----------------------------------------------------------------- inputs
    @property
    def history_column(self) -> str | None:
        """The query column that lists a user's past candidates (``data.history.column``), if any."""
        data = (self.metadata.get("experiment") or {}).get("data") or {}
        column = (data.get("history") or {}).get("column")
        return column if isinstance(column, str) else None

    @property
    def query_features(self) -> list[str]:
        return self.queries.query_features

    @property
    def known_queries(self) -> pd.DataFrame | None:
        """One stored raw row per training user (their query features), or ``None``."""
        return self.queries.known_queries

    @property
    def stores_known_users(self) -> bool:
        """Whether the model keeps its training users' query rows (needed by ``cold_start="average"``)."""
        return self.queries.stores_known_users

    def average_query(self) -> torch.Tensor:
        """``(1, d)`` mean query vector of the users seen in training (cold-start queries)."""
        return self.queries.average()

    def is_known(self, ids: Any) -> np.ndarray:
        """``(n,)`` bool: which raw query IDs were seen in training.

        Unknown IDs still get recommendations: users of the model's users table from their
        stored side features (:meth:`has_features` tells those apart); the others, by default
        (``cold_start="average"``), the mean known user's list, with ``"oov"`` the model's
        answer for the OOV index, the column defaults and an empty history. Use these to
        route cold-start users elsewhere.
        """
        return self.queries.known_positions(id_list(ids, "ids", check=False)) >= 0

    def is_candidate(self, ids: Any) -> np.ndarray:
        """``(n,)`` bool: which raw IDs are in the candidate catalogue (the others cannot be
        recommended, and :meth:`rank` places them last)."""
        return self.catalogue_rows(ids) >= 0

    def catalogue_rows(self, ids: Any) -> np.ndarray:
        """``(n,)`` int64: each raw ID's row of :attr:`candidate_ids` (``-1`` outside the catalogue)."""
        return self._cand_pos.positions(id_list(ids, "ids", column=self.candidate_column),
                                        column=self.candidate_column)

    @property
    def side_queries(self) -> pd.DataFrame | None:
        """Users of the users table (``data.join`` on the user column) that training never saw,
        with the side columns the query tower reads: they are answered from those features."""
        return self.queries.side_queries

    def has_features(self, ids: Any) -> np.ndarray:
        """``(n,)`` bool: IDs the model can describe: seen in training (:meth:`is_known`) or
        rows of its users table. The others are cold starts when given as bare IDs."""
        return self.queries.has_features(id_list(ids, "ids", check=False))

    def stored_ids(self, ids: Any) -> list[Any]:
        """Each raw query ID as the training table spelled it (``"42"`` → ``42`` for an integer
        column); an unknown one as given, or as an integer when the column holds integers and
        it is one written as text: for callers whose IDs arrive as text, like the CLI."""
        return self.queries.stored_ids(ids)

    @property
    def candidate_column(self) -> str:
        """The raw column of the candidate key (e.g. ``movie_id`` for a feature named ``item``):
        the output names it like the query column, by the column users know."""
        return self.preprocessor.schema[self.model.candidate_key].source_column

    # ----------------------------------------------------------------- API
    def recommend(
        self, queries: QueryInput, k: int = 10, *, exclude: Any = None, cold_start: str = "average"
    ) -> pd.DataFrame:
        """Top ``k`` candidates per query.

        Args:
            queries: raw user IDs, row dicts or a DataFrame (see the class docstring).
            k: list length (clipped to the catalogue size).
            exclude: ``"seen"`` (each known user's training items and the items of a history
                given in the row), one raw candidate ID or a list of them excluded for every
                query, both (``["seen", 69, 121]``), or ``None``.
            cold_start: ``"average"`` or ``"oov"``: how a cold query is answered (see the
                class docstring; :meth:`has_features` tells which IDs are not cold).

        Returns:
            A DataFrame ``[<query column>, rank, <candidate key>, score]``, up to ``k`` rows per
            query: fewer when the catalogue minus the excluded items is smaller, none when
            everything is excluded (plus ``query_row``, the row's position, when some query
            has no ID). Equal scores are ordered by catalogue row; :meth:`rank` places a tied
            item by its ``ties`` rule instead, so ``rank + 1`` equals this ``rank`` only
            without ties.
        """
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ConfigError(f"k must be a positive integer, got {k!r}")
        asked, q = self.queries.encode(queries, cold_start, (min(int(k), len(self.candidate_ids)), "k"))
        table, pos = asked.table, asked.known
        blank = (q == 0).all(dim=1) if q.numel() else torch.zeros(0, dtype=torch.bool)
        if blank.any():  # e.g. a known user's history given as [] (an unknown user's would be cold)
            logger.warning("%d of %d queries have a zero query vector: every candidate scores the same and "
                           "their lists are catalogue order, not recommendations; give features the model "
                           "knows (e.g. history items seen in training) or leave them out to use the stored ones",
                           int(blank.sum()), len(table))
        plan = self.exclusions.plan(exclude)
        lists = None if plan is None else self.exclusions.lists(table, pos, *plan)
        every = torch.arange(len(table))
        blocks = ([every[i : i + SEARCH_CHUNK] for i in range(0, len(table), SEARCH_CHUNK)] if lists is None
                  else lists.blocks(every, max_rows=SEARCH_CHUNK, max_entries=EXCLUDE_ENTRIES))
        parts = []
        for r in blocks:  # consecutive rows; their exclusion lists exist for this block only: bounded memory
            ex = None if lists is None else lists.rows(r)
            parts.append(self.index.search(q[r], int(k), exclude=ex))
        scores, idx = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
        valid = idx >= 0
        counts = valid.sum(1).numpy()
        flat_idx = idx[valid].numpy()
        starts = np.repeat(np.cumsum(counts) - counts, counts)  # each row's first output row
        return frame(
            {
                **{name: np.repeat(v, counts) for name, v in self.queries.labels(asked).items()},
                "rank": np.arange(len(flat_idx)) - starts + 1,
                self.candidate_column: self._candidate_array()[flat_idx],
                "score": scores[valid].numpy().astype(float),
            }
        )

    def _candidate_array(self) -> np.ndarray:
        """The raw candidate IDs as an array (int64 when all are integers, else object), for
        vectorized lookup of result rows."""
        if self._cand_array is None:
            ids = self.candidate_ids
            arr = np.empty(len(ids), dtype=object)
            arr[:] = ids
            if ids and all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in ids) and (
                -(2**63) <= min(ids) and max(ids) < 2**63
            ):
                arr = arr.astype(np.int64)
            self._cand_array = arr
        return self._cand_array

    def rank(
        self, queries: QueryInput, items: Sequence[Any], *, exclude: Any = None, cold_start: str = "average",
        ties: str = "optimistic", groups: Sequence[int] | np.ndarray | torch.Tensor | None = None,
        chunk_size: int = 1024, exclude_rows: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """``(n,)`` int64: where each query row's raw item ranks among all candidates (0 = first).

        The quantity full-catalogue metrics are built from (``recstack.metrics.topk_metrics``);
        an item not in the catalogue gets the catalogue size (a miss). ``exclude`` as in
        :meth:`recommend` (the row's own item is never excluded); ``ties``: the item's place
        among equal scores (``recstack.metrics.TIES``). ``groups``: an integer per row (e.g. a
        user code) whose rows are ranked as one list: an item that is one row's item is not
        excluded from its group's other rows. Rows are ranked in blocks of at most
        ``RANK_CHUNK`` rows whose exclusion lists hold at most ``EXCLUDE_ENTRIES`` pairs, so
        exclusion lists exist for one block only; ``chunk_size`` rows are scored at once
        (memory ``chunk_size x C`` floats). ``exclude_rows``: CSR ``(offsets (n+1,), catalogue
        rows)`` of items excluded from each row alone, instead of ``"seen"`` (e.g. what each
        row's user had seen at its time: ``recstack evaluate`` under ``eval_history: before``).
        """
        items = id_list(items, "items", column=self.candidate_column)
        asked, q = self.queries.encode(queries, cold_start, tell_cold=False)  # evaluation tells of them
        table, pos = asked.table, asked.known
        if len(items) != len(table):
            raise ConfigError(f"rank: {len(items)} items for {len(table)} query rows; give one item per row")
        if not isinstance(chunk_size, (int, np.integer)) or isinstance(chunk_size, bool) or chunk_size < 1:
            raise ConfigError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        positives = torch.as_tensor(self._cand_pos.positions(items, column=self.candidate_column), dtype=torch.long)
        group_of = None if groups is None else torch.as_tensor(np.asarray(groups), dtype=torch.long)
        if group_of is not None and group_of.shape != positives.shape:
            raise ConfigError(f"rank: {len(group_of)} groups for {len(table)} query rows; give one group per row")
        plan = self.exclusions.plan(exclude)
        lists = None if plan is None else self.exclusions.lists(table, pos, *plan)
        if exclude_rows is not None:
            if plan is not None and plan[1]:
                raise ConfigError("rank: exclude_rows replaces exclude='seen'; give one of them")
            if exclude_rows[0].shape != (len(table) + 1,):
                raise ConfigError(f"rank: exclude_rows has {exclude_rows[0].numel() - 1} rows for {len(table)} "
                                  "query rows; give one list per row")
            lists = ExclusionLists(row_groups=torch.as_tensor(pos, dtype=torch.long), per_row=exclude_rows,
                                   everywhere=None if plan is None else torch.as_tensor(plan[0], dtype=torch.long))
        if lists is not None and group_of is not None:  # a group's items are one list (see the docstring)
            known = positives >= 0
            lists = lists.keeping((group_of[known], positives[known]), group_of)
        ranker = PositiveRanker(positives, exclude=lists, max_rows=RANK_CHUNK, max_entries=EXCLUDE_ENTRIES)
        if ranker.rows.numel():
            warn_if_not_finite(self.index.embeddings)
        check = TIE_SAMPLE if ties == "optimistic" else 0
        ranked = ranker(q, self.index.embeddings, ties=ties, chunk_size=int(chunk_size), tie_sample=check)
        warn_if_tied(ranked.tied, ranked.counted, ties)
        return ranked.ranks

    def score(
        self, queries: QueryInput, candidates: Any, *, cold_start: str = "average"
    ) -> pd.DataFrame:
        """Scores of the given candidates for each query: ``[query, candidate, score]``.

        ``candidates``: raw catalogue IDs (those not in the catalogue get ``NaN``: they have no
        stored embedding), or rows with the candidate tower's columns (a DataFrame, a row dict
        or a list of them), e.g. a new item, embedded from the features given
        (:class:`~recstack.artifacts.candidates.CandidateRows`): a row with a catalogue ID but
        other features is scored from those features. Rows echo their key column (plus
        ``candidate_row``, the row's position, when a row has no key). ``cold_start`` as in
        :meth:`recommend`.
        """
        if CandidateRows.given_as_rows(candidates):
            return self._score_rows(queries, candidates, cold_start)
        candidates = id_list(candidates, "candidates", column=self.candidate_column)
        asked, q = self.queries.encode(queries, cold_start, (len(candidates), "the number of candidates"))
        table = asked.table
        rows = self._cand_pos.positions(candidates, column="candidates")
        emb = self.index.embeddings[torch.as_tensor(np.maximum(rows, 0))]
        s = (q @ emb.T).numpy().astype(float)
        s[:, rows < 0] = np.nan
        return pd.DataFrame(
            {
                **{name: np.repeat(v, len(candidates)) for name, v in self.queries.labels(asked).items()},
                self.candidate_column: list(candidates) * len(table),
                "score": s.reshape(-1),
            }
        )

    def _score_rows(self, queries: QueryInput, candidates: Any, cold_start: str) -> pd.DataFrame:
        """:meth:`score` of raw candidate rows: embedded by the candidate tower, not looked up."""
        rows = self.candidate_rows.table(candidates)
        asked, q = self.queries.encode(queries, cold_start, (len(rows), "the number of candidates"))
        table = asked.table
        s = (q @ self.candidate_rows.embed(rows).T).numpy().astype(float)
        return frame(
            {
                **{name: np.repeat(v, len(rows)) for name, v in self.queries.labels(asked).items()},
                **{name: np.tile(v, len(table)) for name, v in self.candidate_rows.labels(rows).items()},
                "score": s.reshape(-1),
            }
        )

    def similar(self, item: Any, k: int = 10) -> pd.DataFrame:
        """Candidates closest to ``item`` by embedding dot product (the item itself excluded).

        With ``candidate_bias`` the item's bias coordinate is not part of the likeness:
        the query is ``[c_item, 0]``, so scores are ``c_item . c``. An ``item`` not in the
        catalogue raises :class:`~recstack.errors.UnknownIDError` (a ``KeyError``; a bad ``k``, a
        ``ConfigError``, is a ``ValueError``).
        """
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ConfigError(f"k must be a positive integer, got {k!r}")
        check_ids([item], "item", self.candidate_column, one=True)  # b"1" would find item 1; [1] is not one ID
        row = self._cand_pos.positions([item], column="item")[0]
        if row < 0:
            raise UnknownIDError(f"{self.candidate_column} {item!r} is not in the catalogue")
        q = self.index.embeddings[row : row + 1].clone()
        if self.model.config.candidate_bias:
            q[:, -1] = 0.0
        exclude = (torch.tensor([0, 1]), torch.tensor([row]))
        scores, idx = self.index.search(q, k, exclude=exclude)
        keep = idx[0] >= 0
        return pd.DataFrame(
            {
                "rank": np.arange(1, int(keep.sum()) + 1),
                self.candidate_column: [self.candidate_ids[i] for i in idx[0][keep].tolist()],
                "score": scores[0][keep].numpy().astype(float),
            }
        )
