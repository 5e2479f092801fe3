"""Write the benchmark inputs with the real writers, into benchmarks/data/ (gitignored).

Event files come from torch's SummaryWriter (old-style `simple_value` and `new_style` tensors) and
from tensorboard's EventFileWriter fed the tensor protos TF2's `tf.summary.scalar` writes; the
JSON-lines log comes from mmengine's LocalVisBackend, the backend mmengine's Runner logs through,
with NaN/Infinity values and validation lines. Usage: `python benchmarks/generate.py [--steps N]`.
"""

from __future__ import annotations

import argparse
import math
import shutil
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
TAGS = ("train/lr", "train/loss", "train/grad_norm")
# mmengine logs validation metrics once per this many iterations in these inputs.
VAL_INTERVAL = 1000


def values(step: int, steps: int) -> tuple[float, float, float]:
    """A cosine LR, a decaying loss and a noisy grad norm: realistic, all different bits."""
    lr = 1e-4 * 0.5 * (1 + math.cos(math.pi * step / steps))
    loss = 2.5 / (1 + step / 1000) + 0.01 * math.sin(step)
    grad_norm = 1.0 + 0.5 * math.cos(step * 0.37)
    return lr, loss, grad_norm


def torch_file(name: str, steps: int, **kwargs: bool) -> Path:
    from torch.utils.tensorboard import SummaryWriter

    out = DATA / name
    shutil.rmtree(out, ignore_errors=True)
    writer = SummaryWriter(str(out), max_queue=10_000, flush_secs=3600)
    for step in range(steps):
        for tag, value in zip(TAGS, values(step, steps), strict=True):
            writer.add_scalar(tag, value, step, **kwargs)
    writer.close()
    return out


def tf2_file(name: str, steps: int) -> Path:
    """TF2's layout without TensorFlow: a 0-d DT_FLOAT tensor with tensor_content + metadata."""
    import numpy as np
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.compat.proto.types_pb2 import DT_FLOAT
    from tensorboard.plugins.scalar.metadata import create_summary_metadata
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    out = DATA / name
    shutil.rmtree(out, ignore_errors=True)
    writer = EventFileWriter(str(out), max_queue_size=10_000, flush_secs=3600)
    metadata = create_summary_metadata(None, None)
    shape = TensorShapeProto()
    for step in range(steps):
        for tag, value in zip(TAGS, values(step, steps), strict=True):
            tensor = TensorProto(
                dtype=DT_FLOAT,
                tensor_shape=shape,
                tensor_content=np.float32(value).tobytes(),
            )
            v = Summary.Value(tag=tag, tensor=tensor, metadata=metadata)
            writer.add_event(Event(wall_time=time.time(), step=step, summary=Summary(value=[v])))
    writer.close()
    return out


def mmengine_json(name: str, steps: int) -> Path:
    """Train lines as mmengine's Runner logs them, validation lines, and NaN/Infinity losses."""
    from mmengine.visualization import LocalVisBackend

    out = DATA / name
    shutil.rmtree(out, ignore_errors=True)
    backend = LocalVisBackend(str(out))
    for step in range(1, steps + 1):
        lr, loss, grad_norm = values(step, steps)
        if step % 5000 == 0:
            loss = float("nan")
        elif step % 7919 == 0:
            loss = float("inf") if step % 2 else float("-inf")
        line = {
            "lr": lr,
            "data_time": 0.001 * (1 + step % 7),
            "loss": loss,
            "grad_norm": grad_norm,
            "time": 0.2 + 0.001 * (step % 13),
            "iter": step,
            "memory": 1024 + step % 3,
        }
        backend.add_scalars(line, step=step)
        if step % VAL_INTERVAL == 0:
            backend.add_scalars(
                {"accuracy/top1": 50 + step / steps * 40, "data_time": 0.01, "time": 0.05},
                step=step // VAL_INTERVAL,
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000, help="steps per input (3 tags each)")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    jobs = {
        "torch_old": lambda: torch_file("torch_old", args.steps),
        "torch_new_style": lambda: torch_file("torch_new_style", args.steps, new_style=True),
        "tf2_tensor_content": lambda: tf2_file("tf2_tensor_content", args.steps),
        "mmengine_json": lambda: mmengine_json("mmengine_json", args.steps),
    }
    for name, job in jobs.items():
        t0 = time.perf_counter()
        out = job()
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(f"{name:20s} {size / 1e6:7.1f} MB  {time.perf_counter() - t0:6.1f} s  {out}")


if __name__ == "__main__":
    main()
