"""Training of the torch models, in named parts.

* :class:`Trainer`: epochs of optimizer steps, the NaN guard, callbacks;
* samplers (:class:`BlockSampler`, :class:`RowSampler`, :class:`PairSampler`):
  which users and items each step takes;
* callbacks (:class:`EarlyStopping`, :class:`ProgressReporter`): what happens
  around epochs;
* checkpoints (:class:`CheckpointStore`): a run's state after each epoch,
  written atomically, from which a killed fit resumes;
* :class:`TorchHashRecommender`: the base class of the torch models, with
  their shared parameters and the contract a model fulfils.
"""

from .batches import Batch, make_batch, resolve_device, sparse_tensor
from .callbacks import Callback, EarlyStopping, ProgressReporter, TrainingState
from .checkpoints import CheckpointError, CheckpointStore, read_checkpoint
from .distillation import (
    fitted_teacher,
    soft_labels,
    teacher_ranking_weights,
)
from .estimator import TorchHashRecommender
from .samplers import BlockSampler, PairSampler, RowSampler, Sampler, wrapped_slice
from .trainer import Trainer

__all__ = [
    "Batch", "BlockSampler", "Callback", "CheckpointError", "CheckpointStore",
    "EarlyStopping", "PairSampler", "ProgressReporter",
    "RowSampler", "Sampler", "TorchHashRecommender", "Trainer", "TrainingState", "make_batch",
    "resolve_device", "sparse_tensor", "wrapped_slice", "fitted_teacher",
    "soft_labels", "teacher_ranking_weights", "read_checkpoint",
]
