"""Tasks: losses with their semantics (retrieval, ranking, ...)."""

from recstack.tasks.base import TASKS, Task
from recstack.tasks.retrieval import RetrievalTask, RetrievalTaskConfig

__all__ = ["TASKS", "RetrievalTask", "RetrievalTaskConfig", "Task"]
