"""GPU check: the CUDA paths of CNN Studio, run for real on a machine with an NVIDIA GPU.

1. The trainer on CUDA, LeNet-5 on the digits, without and with mixed precision (autocast + GradScaler):
   per-epoch metrics, images/s, the checkpoint reloaded on the CPU; then the trainer against the plain
   loop of bench/bench_trainer.py on the same GPU.
2. DistributedDataParallel with NCCL: ``torchrun --standalone --nproc_per_node N -m cnnstudio train`` on
   this machine's N GPUs (N = 1 still joins an NCCL process group and wraps the model in DDP), with
   mixed precision; the run folder must record backend ``nccl``.
3. ONNX Runtime's CUDA execution provider on the exported model: the session must really run on CUDA,
   its outputs must match the CPU provider's, and the latency of both is printed.

Without a CUDA GPU it says so in one line and exits with status 0 (nothing to check); a failed check
exits 1. Put its output in the notes when a GPU machine is lent.

    .venv/bin/python scripts/gpu_check.py [--epochs 2] [--batch-size 64] [--spec lenet5] [--data digits]
                                          [--skip-bench] [--gpus N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--spec", default="lenet5")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--gpus", type=int, default=0, help="processes for the DDP check (default: every GPU)")
    parser.add_argument("--skip-bench", action="store_true", help="leave out the trainer-vs-plain-loop benchmark")
    args = parser.parse_args(argv)

    import torch

    if not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU here (torch.cuda.is_available() is False); nothing to check.")
        return 0
    from cnnstudio.ml.device import detect_device

    try:
        nccl = torch.cuda.nccl.version()
        nccl = ".".join(map(str, nccl)) if isinstance(nccl, tuple) else str(nccl)
    except (AttributeError, RuntimeError):
        nccl = "not available"
    print(f"device: {detect_device().label}; {torch.cuda.device_count()} GPU(s); torch {torch.__version__}, "
          f"CUDA {torch.version.cuda}, NCCL {nccl}")
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = check_amp(args, Path(tmp), failures)
        check_ddp(args, Path(tmp), failures)
        if onnx_path:
            check_onnxruntime_cuda(onnx_path, failures)
    if not args.skip_bench:
        sys.path.insert(0, str(REPO / "bench"))
        import bench_trainer

        print("-- trainer vs plain loop on cuda")
        bench_trainer.main(["--spec", args.spec, "--data", args.data, "--batch-size", str(args.batch_size),
                            "--device", "cuda", "--rounds", "3"])
    print("gpu_check: " + ("all checks passed" if not failures else "FAILED: " + "; ".join(failures)))
    return 1 if failures else 0


def check_amp(args, tmp: Path, failures: list[str]) -> str | None:
    """The trainer on CUDA without and with mixed precision; returns the exported model of the AMP run."""
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.runs import load_run_model
    from cnnstudio.ml.trainer import EpochEnd, Failed, Finished, Started, TrainConfig, train

    data = load_dataset({"source": args.data})
    onnx_path = None
    for amp in (False, True):
        config = TrainConfig.from_dict({"epochs": args.epochs, "batch_size": args.batch_size, "device": "cuda",
                                        "mixed_precision": amp, "seed": 0})
        run_dir = tmp / f"run-amp{int(amp)}"
        print(f"-- trainer on cuda, mixed precision {'on' if amp else 'off'}")
        for event in train(args.spec, data, config, run_dir):
            if isinstance(event, Started):
                print(f"   started on {event.device}, autocast+GradScaler active: {event.mixed_precision}")
                if event.mixed_precision != amp:
                    failures.append(f"mixed precision {amp} was not applied")
            elif isinstance(event, EpochEnd):
                m = event.metrics
                print(f"   epoch {m['epoch']}: train loss {m['train_loss']:.4f}, val loss {m['val_loss']:.4f}, "
                      f"val acc {m['val_accuracy']:.4f}, {m['images_per_second']:,.0f} img/s, {m['seconds']:.2f} s")
            elif isinstance(event, Finished):
                print(f"   {event.status}; ONNX: {event.onnx_path}")
                _, model = load_run_model(run_dir)  # checkpoints saved from the GPU load on the CPU
                print(f"   reloaded on CPU: {sum(p.numel() for p in model.parameters()):,} parameters")
                onnx_path = event.onnx_path if amp else onnx_path
            elif isinstance(event, Failed):
                print(f"   FAILED: {event.message}")
                failures.append(f"training (amp {amp}): {event.message}")
    return onnx_path


def check_ddp(args, tmp: Path, failures: list[str]) -> None:
    """torchrun with one process per GPU on NCCL, as a user starts it (docs/scale-out.md)."""
    import torch

    n = args.gpus or torch.cuda.device_count()
    out = tmp / "ddp"
    print(f"-- DistributedDataParallel on NCCL: torchrun --standalone --nproc_per_node {n} -m cnnstudio train")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(n),
           "-m", "cnnstudio", "train", args.spec, "--data", args.data, "--epochs", str(args.epochs),
           "--batch-size", str(args.batch_size * n), "--device", "cuda", "--mixed-precision", "--seed", "0",
           "--out", str(out), "--json"]
    env = {**os.environ, "CNNSTUDIO_DDP": "1", "PYTHONPATH": str(REPO)}  # one GPU still joins a group
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-5:]
        print("   FAILED:\n   " + "\n   ".join(tail))
        failures.append(f"DDP on NCCL exited {done.returncode}")
        return
    result = json.loads(done.stdout[done.stdout.index("{"):])
    config = json.loads((out / "config.json").read_text())
    dist = config.get("distributed", {})
    final = result["final"]
    print(f"   {dist.get('processes')} process(es), backend {dist.get('backend')}, batch per process "
          f"{dist.get('batch_per_process')}, mixed precision {config.get('mixed_precision_active')}")
    print(f"   val acc {final['val_accuracy']:.4f}, {final['images_per_second']:,.0f} img/s (all processes), "
          f"{seconds:.1f} s with start-up; ONNX {result['onnx']}")
    if dist.get("backend") != "nccl":
        failures.append(f"DDP ran on {dist.get('backend')!r}, not nccl")
    if not result.get("onnx"):
        failures.append("DDP run exported no model.onnx")


def check_onnxruntime_cuda(onnx_path: str, failures: list[str], batch: int = 64, rounds: int = 50) -> None:
    """The exported model on ONNX Runtime's CUDA execution provider, against its CPU provider."""
    import numpy as np
    import onnxruntime as ort

    print(f"-- ONNX Runtime {ort.__version__}: CUDA execution provider")
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        print(f"   not available (providers: {', '.join(ort.get_available_providers())}); "
              "install onnxruntime-gpu matching this CUDA")
        failures.append("ONNX Runtime has no CUDA execution provider")
        return
    cuda = ort.InferenceSession(onnx_path, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    cpu = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    if cuda.get_providers()[0] != "CUDAExecutionProvider":
        failures.append(f"the session fell back to {cuda.get_providers()}")
        print(f"   FAILED: the session runs on {cuda.get_providers()}")
        return
    inp = cuda.get_inputs()[0]
    shape = [batch if not isinstance(d, int) else d for d in inp.shape]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    got, want = cuda.run(None, {inp.name: x})[0], cpu.run(None, {inp.name: x})[0]
    diff = float(np.max(np.abs(got - want)))
    timings = {}
    for name, session in (("cuda", cuda), ("cpu", cpu)):
        session.run(None, {inp.name: x})
        started = time.perf_counter()
        for _ in range(rounds):
            session.run(None, {inp.name: x})
        timings[name] = (time.perf_counter() - started) / rounds * 1000
    print(f"   batch {batch}: CUDA {timings['cuda']:.3f} ms, CPU {timings['cpu']:.3f} ms; "
          f"max |CUDA - CPU| = {diff:.2e}")
    if not diff <= 1e-3:
        failures.append(f"CUDA and CPU outputs differ by {diff:.2e}")


if __name__ == "__main__":
    sys.exit(main())
