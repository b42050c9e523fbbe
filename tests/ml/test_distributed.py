"""DistributedDataParallel for real: several processes on gloo on the CPU (cnnstudio.ml.training.distributed).

The end-to-end tests start real processes: torchrun (``python -m torch.distributed.run``) running
``-m cnnstudio train``, or the processes by hand with torchrun's environment so that one can be killed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch

from cnnstudio.ml.training.distributed import SINGLE, Shard

FAST = ["--data", "digits", "--device", "cpu", "--threads", "1", "--lr", "0.01", "--seed", "3"]


# --- the sharding rules (no processes) --------------------------------------------------------------
@pytest.mark.parametrize("n,world", [(10, 2), (11, 2), (10, 3), (7, 4)])
def test_epoch_shards_cover_the_permutation_like_distributed_sampler(n, world):
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(1))
    parts = [Shard(rank, world).epoch_indices(perm) for rank in range(world)]
    assert len({len(p) for p in parts}) == 1  # every process runs as many batches
    assert len(parts[0]) == -(-n // world)
    assert set(torch.cat(parts).tolist()) == set(range(n))
    from torch.utils.data.distributed import DistributedSampler

    class _Fixed(list):  # DistributedSampler over a permutation we give: shuffle=False keeps its order
        pass

    for rank in range(world):
        sampler = DistributedSampler(_Fixed(range(n)), num_replicas=world, rank=rank, shuffle=False)
        assert parts[rank].tolist() == [perm[i].item() for i in sampler]


def test_a_global_batch_is_the_same_images_in_any_number_of_processes():
    perm = torch.randperm(64, generator=torch.Generator().manual_seed(2))
    batch, world = 16, 4
    local = Shard(0, world).local_batch(batch)
    shards = [Shard(rank, world).epoch_indices(perm) for rank in range(world)]
    for b in range(64 // batch):
        together = torch.cat([s[b * local:(b + 1) * local] for s in shards])
        assert sorted(together.tolist()) == sorted(perm[b * batch:(b + 1) * batch].tolist())


def test_validation_parts_are_contiguous_and_complete():
    for n, world in ((359, 2), (10, 3), (3, 2)):
        ranges = [Shard(r, world).val_range(n) for r in range(world)]
        if n < 2 * world:  # a tiny set: every process evaluates all of it
            assert ranges == [(0, n)] * world
        else:
            assert ranges[0][0] == 0 and ranges[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    assert SINGLE.val_range(5) == (0, 5) and not SINGLE.active and SINGLE.writes


# --- real processes ------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spec_file(tmp_path, tiny_spec):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_spec("digits")))
    return str(path)


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env.update(OMP_NUM_THREADS="1", **extra)
    return env


@pytest.mark.slow
def test_two_processes_on_gloo_train_as_one_with_the_same_global_batch(tmp_path, tiny_spec):
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.trainer import Finished, TrainConfig, train

    spec = _spec_file(tmp_path, tiny_spec)
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "cnnstudio", "train", spec, *FAST, "--epochs", "2", "--batch-size", "32", "--out", str(out), "--json"]
    done = subprocess.run(cmd, env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-12000:]
    result = json.loads(done.stdout[done.stdout.index("{"):])  # only rank 0 prints
    config = json.loads((out / "config.json").read_text())
    assert config["distributed"] == {"processes": 2, "backend": "gloo", "batch_per_process": 16}
    assert (out / "model.onnx").is_file() and (out / "checkpoints" / "last.pt").is_file()

    config1 = TrainConfig.from_dict({"epochs": 2, "batch_size": 32, "lr": 0.01, "seed": 3, "device": "cpu",
                                     "threads": 1})
    events = list(train(spec, load_dataset({"source": "digits"}), config1, tmp_path / "one", export=False))
    single = events[-1]
    assert isinstance(single, Finished)
    assert abs(result["final"]["val_accuracy"] - single.metrics["val_accuracy"]) <= 0.01
    assert result["final"]["val_accuracy"] > 0.5

    # a run of one process, resumed by two, continues as the uninterrupted run (same global batches)
    half = tmp_path / "half"
    config1.epochs = 1
    assert isinstance(list(train(spec, {"source": "digits"}, config1, half, export=False))[-1], Finished)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "cnnstudio", "train", "--resume", str(half), "--epochs", "2", "--json"]
    done = subprocess.run(cmd, env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-12000:]
    resumed = json.loads(done.stdout[done.stdout.index("{"):])["final"]
    assert resumed["epoch"] == 2
    assert abs(resumed["val_loss"] - single.metrics["val_loss"]) < 1e-3
    assert abs(resumed["val_accuracy"] - single.metrics["val_accuracy"]) <= 0.003


@pytest.mark.slow
def test_a_killed_process_stops_the_others_with_one_line_and_the_checkpoint_stays(tmp_path, tiny_spec):
    from cnnstudio.cli import main
    from cnnstudio.ml.run_folder import load_checkpoint, read_history

    spec = _spec_file(tmp_path, tiny_spec)
    out = tmp_path / "run"
    port = str(_free_port())
    procs = []
    for rank in range(2):
        env = _env(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE="2",
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "cnnstudio", "train", spec, *FAST, "--epochs", "500", "--batch-size", "64",
             "--out", str(out)], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE if rank == 0 else subprocess.DEVNULL, text=True))
    try:
        deadline = time.monotonic() + 180
        while not (out / "metrics.jsonl").is_file():  # rank 0 has written epoch 1's checkpoint and metrics
            assert procs[0].poll() is None and time.monotonic() < deadline, procs[0].stderr.read()
            time.sleep(0.05)
        procs[1].send_signal(signal.SIGKILL)
        _, err = procs[0].communicate(timeout=120)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
    assert procs[0].returncode == 2
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("Training on ")]
    assert len(lines) == 1, err
    assert lines[0].startswith("cnnstudio train: error: Training stopped: another of the 2 training processes")
    assert "--resume" in lines[0]

    summary = json.loads((out / "metrics.json").read_text())
    assert summary["status"] == "failed"
    done = len(read_history(out))
    assert done >= 1 and load_checkpoint(out / "checkpoints" / "last.pt")["epoch"] == done
    # the run of 2 processes resumes in 1 (the checkpoint holds the plain module's weights)
    assert main(["train", "--resume", str(out), "--epochs", str(done + 1)]) == 0
    rows = read_history(out)
    assert [r["epoch"] for r in rows] == list(range(1, done + 2))
    assert json.loads((out / "metrics.json").read_text())["status"] == "completed"


@pytest.mark.slow
def test_a_search_worker_under_torchrun_trains_every_trial_with_ddp(tmp_path, tiny_spec):
    spec = _spec_file(tmp_path, tiny_spec)
    out = tmp_path / "hpo"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "cnnstudio", "hpo", spec, "--data", "digits", "--device", "cpu", "--threads", "1",
           "--trials", "3", "--epochs", "2", "--sampler", "random", "--pruner", "median", "--seed", "5",
           "--storage", f"sqlite:///{tmp_path / 'study.db'}", "--study", "ddp", "--out", str(out), "--json"]
    done = subprocess.run(cmd, env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-12000:]
    result = json.loads(done.stdout[done.stdout.index("{"):])  # rank 0 alone talks to Optuna and prints
    assert result["trials_done"] == 3 and len(result["trials"]) == 3
    for row in result["trials"]:
        assert row["state"] in ("complete", "pruned")
        config = json.loads((out / f"trial-{row['number']:04d}" / "config.json").read_text())
        assert config["distributed"]["processes"] == 2


@pytest.mark.slow
def test_batch_norm_statistics_of_a_two_process_run_are_the_saved_models(tmp_path, tiny_spec):
    """DDP does not send the buffers every step (broadcast_buffers=False): what every process evaluates with,
    and what rank 0 saves, are still the same batch norm statistics, so the run's reported validation loss is
    the saved model's, evaluated afresh in one process."""
    import contextlib

    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.run_folder import load_checkpoint, load_run
    from cnnstudio.ml.tasks import runtime
    from cnnstudio.ml.trainer import TrainConfig, preprocess_of
    from cnnstudio.ml.training.evaluate import evaluate
    from cnnstudio.ml.training.feed import DataFeed

    spec = tiny_spec("digits")
    spec["layers"].insert(1, {"id": "bn1", "type": "batchnorm2d"})
    path = tmp_path / "bn.json"
    path.write_text(json.dumps(spec))
    out = tmp_path / "ddp-bn"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "cnnstudio", "train", str(path), *FAST, "--epochs", "2", "--batch-size", "32", "--out", str(out),
           "--json"]
    done = subprocess.run(cmd, env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-12000:]
    final = json.loads(done.stdout[done.stdout.index("{"):])["final"]

    run = load_run(out)
    model = build_model(run.spec)
    model.load_state_dict(load_checkpoint(out / "checkpoints" / "last.pt")["model"])
    stats = model.layers["bn1"].running_mean
    assert float(stats.abs().sum()) > 0  # the statistics were learned, not left at their start
    data = load_dataset({"source": "digits"}).fit_to(1, 12, 12)
    task = runtime(run.spec["task"])
    feed = DataFeed(data, task, torch.device("cpu"), preprocess_of(run.spec), 32)
    cfg = TrainConfig.from_dict({"epochs": 2, "batch_size": 32})
    ev = evaluate(model, feed, cfg, contextlib.nullcontext, data.num_classes, 256)
    assert abs(ev["loss"] - final["val_loss"]) < 2e-6
    assert abs(ev["accuracy"] - final["val_accuracy"]) < 1e-6  # the metrics files round to 6 places
