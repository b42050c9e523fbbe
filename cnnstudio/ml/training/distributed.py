"""Training on several processes with DistributedDataParallel, started by torchrun (or SLURM + torchrun).

``torchrun --nproc_per_node N -m cnnstudio train SPEC --data … --out RUN`` starts N processes with
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address in their environment. Each runs the
ordinary trainer; what differs is collected in a :class:`Shard`, which the data feed, the evaluation and
the trainer consult (in one process it is :data:`SINGLE` and does nothing):

- the process group is initialised from that environment (:func:`setup`): NCCL when the device is a
  CUDA GPU (process ``LOCAL_RANK`` takes GPU ``LOCAL_RANK``), gloo on the CPU;
- every process draws the same seeded permutation of the training images for an epoch and takes its
  share with DistributedSampler's rule (padded to a multiple of N by repeating its start, then every
  N-th index from the rank on);
- **the batch size is the global batch**: each process takes ``ceil(batch / N)`` images of every batch,
  so a batch is the same images as in one process and a run keeps its meaning (and its learning rate)
  when N changes, a resume with another N included;
- gradients are averaged by DDP; the training loss sums and hits are all-reduced; the validation set
  is split into N contiguous parts whose outputs are gathered, so accuracy, confusion matrix and
  predictions are exactly those of one process;
- only rank 0 writes the run folder (config, checkpoints, metrics, model.onnx) and prints; checkpoints
  hold the unwrapped module's ``state_dict``, so any N (or a plain process) resumes them. On a resume,
  rank 0 reads ``last.pt`` and broadcasts the optimizer state and progress; DDP broadcasts the weights.

A process that fails or is killed breaks the others' next collective operation; they end with one
sentence (:func:`peer_failure`), and the run folder keeps the last checkpoint rank 0 wrote.

A search worker under torchrun (``torchrun … -m cnnstudio hpo …``) joins the group before its study
(:func:`join_search`): rank 0 alone talks to Optuna and sends each trial to the others
(:func:`trial_events`), which train it with it (:func:`follow_trials`); a :class:`SyncedControl` makes
the pruner's stop reach every process after the same epoch.
"""

from __future__ import annotations

import datetime
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

#: seconds a collective operation waits for the other processes before it fails (default 10 minutes)
TIMEOUT_ENV = "CNNSTUDIO_DDP_TIMEOUT"
#: "1": join a process group (and wrap in DDP) even as the only process (scripts/gpu_check.py checks NCCL so)
FORCE_ENV = "CNNSTUDIO_DDP"
DEFAULT_TIMEOUT_S = 600


def env_world() -> tuple[int, int, int]:
    """``(rank, world size, local rank)`` from torchrun's environment; ``(0, 1, 0)`` in a plain process."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world < 1 or (world == 1 and not _forced()):
            return 0, 1, 0
        return int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0"))
    except (KeyError, ValueError):
        return 0, 1, 0


def _forced() -> bool:
    return os.environ.get(FORCE_ENV) == "1" and "MASTER_ADDR" in os.environ


def env_rank() -> int:
    """This process's rank (0 in a plain process): only rank 0 writes the run folder and prints."""
    return env_world()[0]


@dataclass(frozen=True)
class Shard:
    """This process's part of a distributed run (rank ``rank`` of ``world``); world 1 = one process."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    backend: str = ""
    owns_group: bool = False  # this run initialised the process group (and tears it down)

    @property
    def active(self) -> bool:
        """Whether this process is one of a process group (several processes, or one forced to DDP)."""
        return self.world > 1 or bool(self.backend)

    @property
    def writes(self) -> bool:
        """Whether this process writes the run folder and reports progress (rank 0)."""
        return self.rank == 0

    # --- the training images --------------------------------------------------------------------
    def local_count(self, n: int) -> int:
        """Training images per process and epoch (DistributedSampler: ceil(n / world))."""
        return math.ceil(n / self.world)

    def local_batch(self, batch_size: int) -> int:
        """This process's share of a (global) batch."""
        return max(1, math.ceil(batch_size / self.world))

    def epoch_indices(self, perm: torch.Tensor) -> torch.Tensor:
        """This process's indices of the epoch's permutation (DistributedSampler with drop_last=False)."""
        if not self.active:
            return perm
        total = self.local_count(int(perm.numel())) * self.world
        if total > perm.numel():  # pad by repeating the start, so that every process gets as many
            repeats = math.ceil((total - perm.numel()) / perm.numel())
            perm = torch.cat([perm, *([perm] * repeats)])[:total]
        return perm[self.rank:total:self.world]

    def sum(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The tensors summed over all processes (in place; one call per tensor)."""
        if self.active:
            import torch.distributed as dist

            for t in tensors:
                dist.all_reduce(t)
        return tensors

    # --- the validation images ------------------------------------------------------------------
    def val_range(self, n: int) -> tuple[int, int]:
        """This process's contiguous part ``[start, stop)`` of the ``n`` validation images."""
        if not self._splits_val(n):
            return 0, n
        chunk = math.ceil(n / self.world)
        return min(n, self.rank * chunk), min(n, (self.rank + 1) * chunk)

    def _splits_val(self, n: int) -> bool:
        return self.active and n >= 2 * self.world  # tiny sets: every process evaluates them whole

    def gather_val(self, outputs: tuple, loss_sum: torch.Tensor, n: int) -> tuple[tuple, torch.Tensor]:
        """The validation outputs of all processes in image order, and the loss summed over them."""
        if not self._splits_val(n):
            return outputs, loss_sum
        import torch.distributed as dist

        chunk = math.ceil(n / self.world)
        gathered = []
        for out in outputs:
            padded = out.new_zeros((chunk, *out.shape[1:]))
            padded[:out.shape[0]] = out
            parts = [torch.empty_like(padded) for _ in range(self.world)]
            dist.all_gather(parts, padded.contiguous())
            sizes = [max(0, min(n, (r + 1) * chunk) - r * chunk) for r in range(self.world)]
            gathered.append(torch.cat([p[:s] for p, s in zip(parts, sizes)]))
        dist.all_reduce(loss_sum)
        return tuple(gathered), loss_sum

    def sync_buffers(self, model: torch.nn.Module) -> None:
        """Rank 0's buffers (batch norm running statistics) on every process: the validation then measures
        the model rank 0 saves, whichever process evaluates which images."""
        if self.active:
            import torch.distributed as dist

            for buffer in model.buffers():
                dist.broadcast(buffer.data, src=0)

    # --- state ----------------------------------------------------------------------------------------
    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every process."""
        if not self.active:
            return obj
        import torch.distributed as dist

        box = [obj if self.writes else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def close(self) -> None:
        """Tear the process group down when this run set it up."""
        if self.owns_group:
            import gc

            import torch.distributed as dist

            if dist.is_initialized():
                # The DDP wrappers (their reducers hold the group and its threads) must be gone before the
                # group is: freed later, at interpreter exit, they end the process with "terminate called
                # without an active exception" (SIGABRT). Then leave together, so that no process tears down
                # while a peer is still inside the last collective.
                gc.collect()
                dist.barrier()
                dist.destroy_process_group()


SINGLE = Shard()


def setup(device: torch.device) -> tuple[torch.device, Shard]:
    """The device of this process and its :class:`Shard`; under torchrun, the process group is joined here.

    NCCL on a CUDA device (``cuda`` becomes ``cuda:LOCAL_RANK``), gloo otherwise (Apple MPS trains on the CPU).
    """
    rank, world, local_rank = env_world()
    if world <= 1 and not _forced():
        return device, SINGLE
    import torch.distributed as dist

    if device.type == "mps":  # neither NCCL nor gloo moves Apple GPU tensors: the processes share the CPU
        device = torch.device("cpu")
    if device.type == "cuda":
        if device.index is not None and world > 1:
            from cnnstudio.core.errors import UserError

            raise UserError(f"Under torchrun each process takes the GPU of its LOCAL_RANK, not {device}: use "
                            "--device cuda (CUDA_VISIBLE_DEVICES chooses the GPUs).")
        if device.index is None:
            device = torch.device("cuda", local_rank % max(1, torch.cuda.device_count()))
        torch.cuda.set_device(device)
    owns = False
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        timeout = datetime.timedelta(seconds=float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)))
        kwargs = {"device_id": device} if backend == "nccl" else {}
        dist.init_process_group(backend, timeout=timeout, **kwargs)
        owns = True
    return device, Shard(dist.get_rank(), dist.get_world_size(), local_rank, dist.get_backend(), owns)


def cpu_threads_per_process(threads: int) -> int:
    """CPU threads of one process: the cores shared among the processes on this machine (or ``threads``)."""
    if threads > 0:
        return threads
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)
    return max(1, min(torch.get_num_threads(), (os.cpu_count() or 1) // max(1, local)))


def synchronise(run: Any, resume: bool) -> None:
    """Make every process start alike and wrap the step's model in DDP.

    On a resume rank 0 (which read ``last.pt``) sends the optimizer state and the progress; the weights
    are broadcast by DDP itself when it wraps the model. ``run`` is the trainer's run (model, step, feed).
    """
    shard = run.feed.shard
    if not shard.active:
        return
    if run.device.type == "cpu":
        torch.set_num_threads(cpu_threads_per_process(int(run.cfg.threads)))
    if resume:
        state = shard.broadcast({"start_epoch": run.start_epoch, "best": run.best, "history": run.history,
                                 "step": _cpu(run.step.state())} if shard.writes else None)
        if not shard.writes:
            run.start_epoch, run.best, run.history = state["start_epoch"], state["best"], state["history"]
            run.step.load_state(state["step"])
    from torch.nn.parallel import DistributedDataParallel

    ids = [run.device.index] if run.device.type == "cuda" else None
    run.step.model = DistributedDataParallel(run.model, device_ids=ids,  # run.model stays the plain module
                                             gradient_as_bucket_view=True, **_no_buffer_sync_per_step())
    shard.sync_buffers(run.model)  # rank 0's buffers (a resumed run's statistics) once, at the start


def _no_buffer_sync_per_step() -> dict:
    """DDP's option not to send rank 0's buffers (batch norm running statistics) before every forward.

    That would be one more collective per step, and a training forward does not read them: the evaluation,
    which does, starts with rank 0's (Shard.sync_buffers), and the checkpoints are rank 0's. Newer torch
    calls the option ``forward_sync_buffers`` (and still sends the buffers once when DDP wraps the model);
    older torch calls it ``broadcast_buffers`` (and then does not), hence the explicit sync after wrapping.
    """
    import inspect

    from torch.nn.parallel import DistributedDataParallel

    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel.__init__).parameters:
        return {"forward_sync_buffers": False}
    return {"broadcast_buffers": False}


def _cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu(v) for v in obj)
    return obj


def peer_failure(exc: BaseException, shard: Shard | None, last_checkpoint: str | None) -> str | None:
    """The sentence a process ends with when another one failed (None: not a distributed failure)."""
    if shard is None or not shard.active or not isinstance(exc, RuntimeError):
        return None
    import torch.distributed as dist

    text = str(exc)
    markers = ("connection", "closed", "reset by peer", "timed out", "timeout", "broken pipe", "nccl", "gloo",
               "socket", "peer")
    if not (isinstance(exc, getattr(dist, "DistError", ())) or any(m in text.lower() for m in markers)):
        return None
    if last_checkpoint:
        run = Path(last_checkpoint).parent.parent
        kept = f" The run folder keeps its last good checkpoint (cnnstudio train --resume {run} continues it)."
    else:
        kept = " No epoch had finished, so there is no checkpoint."
    return (f"Training stopped: another of the {shard.world} training processes failed or was stopped "
            f"(process {shard.rank} saw: {_first_line(text)}).{kept}")


def _first_line(text: str) -> str:
    line = (text.strip().splitlines() or ["lost contact"])[0]
    if "] " in line[:200]:  # "[../third_party/gloo/...:123] Connection closed by peer [...]"
        line = line.split("] ", 1)[1]
    line = line.split(". ", 1)[0]  # gloo adds advice ("This is typically caused by ...")
    return line[:160].rstrip(" .")


# --- a search worker under torchrun: every trial is one DDP training of all its processes ---------------------
class SyncedControl:
    """A trial's control seen alike by every process: cancelled when any process's control is.

    The trainer asks ``cancelled`` at each epoch's start and after each batch, the same number of times
    in every process, so the question is one tiny all-reduce; rank 0's pruner then stops every process
    after the same epoch. Pause holds rank 0, and the others wait for it at their next exchange.
    """

    def __init__(self, inner: Any, shard: Shard):
        self.inner, self.shard = inner, shard

    @property
    def cancelled(self) -> bool:
        import torch.distributed as dist

        flag = torch.tensor([1 if self.inner.cancelled else 0], dtype=torch.int32, device=_comm_device(self.shard))
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

    @property
    def paused(self) -> bool:
        return self.inner.paused

    def wait_while_paused(self) -> float:
        return self.inner.wait_while_paused()

    def cancel(self) -> None:
        self.inner.cancel()

    def pause(self) -> None:
        self.inner.pause()

    def resume(self) -> None:
        self.inner.resume()


def _comm_device(shard: Shard) -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if shard.backend == "nccl" else torch.device("cpu")


_SEARCH: Shard | None = None  # the process group of a search worker under torchrun (join_search)


def join_search(device_choice: str = "auto") -> Shard:
    """Join torchrun's process group for a search worker (before the study: trials are sent through it).

    Returns :data:`SINGLE` in a plain process. Rank 0 runs the study (it alone talks to Optuna and writes the
    trials' run folders); the other ranks :func:`follow_trials`.
    """
    global _SEARCH
    if env_world()[1] <= 1:
        return SINGLE
    from cnnstudio.ml.device import resolve_device

    _, shard = setup(resolve_device(device_choice))
    _SEARCH = shard
    return shard


def trial_events(train, spec: dict, data: Any, training: dict, run_dir, control, **kwargs):
    """``train(...)`` of one trial; in a search worker under torchrun rank 0 first sends the trial to the others."""
    if _SEARCH is None or not _SEARCH.active:
        return train(spec, data, training, run_dir, control, **kwargs)
    _SEARCH.broadcast({"spec": spec, "training": training})
    return train(spec, data, training, run_dir, SyncedControl(control, _SEARCH), **kwargs)


def follow_trials(data: Any, data_config: dict | None) -> int:
    """A non-zero rank of a search worker: train each trial rank 0 sends, until it sends the end. Returns the
    number of trials trained."""
    from cnnstudio.ml.train_events import TrainControl
    from cnnstudio.ml.trainer import train

    shard, count = _SEARCH or SINGLE, 0
    while True:
        order = shard.broadcast(None)
        if order is None:
            return count
        control = SyncedControl(TrainControl(), shard)
        for _event in train(order["spec"], data, order["training"], None, control, data_config=data_config,
                            export=False):
            pass
        count += 1


def end_search() -> None:
    """Rank 0: tell the other ranks the study is over; every rank then leaves the process group."""
    global _SEARCH
    shard, _SEARCH = _SEARCH, None
    if shard is None or not shard.active:
        return
    if shard.writes:
        shard.broadcast(None)
    shard.close()
