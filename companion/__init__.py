"""companion: the library of the course *Foundations of Deep Learning Research*.

One module per concept, layered bottom up. The most used names are re-exported here;
everything else is imported from its module, e.g. ``from companion.losses import softmax``.
"""

from companion.device import available_devices, get_device, seed_everything

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "available_devices",
    "get_device",
    "seed_everything",
]
