"""Training: the Trainer loop, its config, history, checkpoints and seeding."""

from recstack.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from recstack.training.config import EarlyStoppingConfig, TrainConfig
from recstack.training.history import History
from recstack.training.seed import seed_everything
from recstack.training.trainer import Callback, Evaluator, Trainer

__all__ = [
    "Callback",
    "EarlyStoppingConfig",
    "Evaluator",
    "History",
    "TrainConfig",
    "Trainer",
    "latest_checkpoint",
    "load_checkpoint",
    "save_checkpoint",
    "seed_everything",
]
