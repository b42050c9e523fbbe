"""CPU training with freed host memory kept in the process (cnnstudio.ml.training.host_memory) against glibc's
defaults, which give large freed blocks back to the kernel at once.

Both sides are real ``cnnstudio train`` runs on one CPU thread, the default one and one with
``CNNSTUDIO_KEEP_FREED_MEMORY=0`` (a fresh process each, so glibc starts from its own defaults), alternated
round by round; each run's median epoch throughput after the first epoch is compared, with the page faults
and kernel time of the whole run. Informational: no target was set; the setting exists for this speed-up.

    .venv/bin/python bench/bench_host_memory.py [--spec tinyvgg] [--samples 4000] [--epochs 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(folder: Path, keep: bool, args) -> tuple[float, int, float]:
    """(median training img/s after the first epoch, minor page faults, kernel seconds) of one run."""
    cmd = [sys.executable, "-m", "cnnstudio", "train", args.spec, "--data", "shapes", "--samples", str(args.samples),
           "--fit-classes", "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--device", "cpu",
           "--threads", "1", "--schedule", "none", "--out", str(folder)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), "CNNSTUDIO_KEEP_FREED_MEMORY": str(int(keep))}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"bench_host_memory: a run failed:\n{done.stderr[-2000:]}")
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines() if line.strip()]
    rate = statistics.median(r["images_per_second"] for r in rows[1:] or rows)
    return rate, after.ru_minflt - before.ru_minflt, after.ru_stime - before.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="tinyvgg")
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    got: dict[bool, list[tuple[float, int, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for keep in ((True, False) if r % 2 == 0 else (False, True)):
                got[keep].append(run(Path(tmp) / f"{int(keep)}-{r}", keep, args))
    ratios = [k[0] / d[0] for k, d in zip(got[True], got[False])]
    print(f"freed host memory kept vs glibc's defaults: {args.spec} on {args.samples:,} shapes, batch {args.batch_size}, "
          f"1 thread, {args.rounds} rounds x {args.epochs} epochs; load {os.getloadavg()[0]:.1f}")
    for keep, title in ((True, "kept (default)"), (False, "glibc's defaults")):
        rows = got[keep]
        print(f"  {title:17s} {statistics.median(r[0] for r in rows):7,.0f} img/s, "
              f"{statistics.median(r[1] for r in rows):11,.0f} page faults, "
              f"{statistics.median(r[2] for r in rows):5.1f} s in the kernel a run")
    print(f"  speed-up {statistics.median(ratios):.2f}x (rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
