"""The producer registry: every framework logan reads, most specific recogniser first.

Discovery offers each folder to these in order (a folder one claims is not offered to the next);
loading looks a run's producer up here by name. Adding a producer is one module and one line.
"""

from __future__ import annotations

from logan.producers.hf import HF
from logan.producers.interface import Producer
from logan.producers.lightning import Lightning
from logan.producers.llamafactory import LlamaFactory
from logan.producers.mmcv import MMCV
from logan.producers.mmengine import MMEngine
from logan.producers.tensorboard import TensorBoard

PRODUCERS: tuple[Producer, ...] = (
    MMEngine(),
    MMCV(),
    LlamaFactory(),
    HF(),
    Lightning(),
    TensorBoard(),  # any folder of event files nobody else claimed
)


def by_name(name: str) -> Producer:
    for p in PRODUCERS:
        if p.name == name:
            return p
    raise KeyError(name)
