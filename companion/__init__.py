"""companion: the library of the course *Foundations of Deep Learning Research*.

One module per concept, layered bottom up::

    device, data                      where to compute, offline datasets
    losses, activations               kernels with their hand-written gradients (the formula tier)
    compiled                          the same kernels made fast by torch.compile (the compiled tier)
    tensor, autodiff, nn              strides, reverse-mode autodiff, hand-written backprop
    optim, schedules, distributed     optimizers, learning-rate schedules, data parallelism
    curvature                         Hessian-vector products and sharpness
    init, normalization               initializers; layer, batch and RMS norm
    regularization, pruning           dropout, weight penalties, early stopping; pruning, lottery ticket
    train, plot, research, exercises  the training loop, figures, research tools, coursework
    stats                             intervals and paired tests for comparing methods over seeds

The names below are re-exported for convenience; everything else is imported from its module,
e.g. ``from companion.research import Chessboard``. The modules ``plot``, ``research``,
``distributed`` and ``exercises`` are not imported here (they pull in matplotlib, pandas,
bibtexparser or torch.distributed), nor is ``compiled`` (its first calls compile): import them
explicitly.
"""

from companion import activations, autodiff, curvature, data, init, losses, nn, normalization, optim, pruning, regularization, schedules, stats, tensor, train
from companion.data import circles, digits, loader, moons, spirals, train_val_split
from companion.device import available_devices, get_device, seed_everything
from companion.losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    entropy,
    kl_divergence,
    log_softmax,
    mse,
    softmax,
)
from companion.optim import LBFGS, SGD, AdaGrad, Adam, AdamW, Newton, RMSProp, minimize
from companion.source import show_source
from companion.tensor import StridedTensor
from companion.train import History, fit

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # modules
    "activations",
    "autodiff",
    "curvature",
    "data",
    "init",
    "losses",
    "nn",
    "normalization",
    "optim",
    "pruning",
    "regularization",
    "schedules",
    "stats",
    "tensor",
    "train",
    # device
    "available_devices",
    "get_device",
    "seed_everything",
    # data
    "circles",
    "digits",
    "loader",
    "moons",
    "spirals",
    "train_val_split",
    # losses
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "entropy",
    "kl_divergence",
    "log_softmax",
    "mse",
    "softmax",
    # optimizers
    "SGD",
    "AdaGrad",
    "Adam",
    "AdamW",
    "LBFGS",
    "Newton",
    "RMSProp",
    "minimize",
    # tensors
    "StridedTensor",
    # course pages
    "show_source",
    # training
    "History",
    "fit",
]
