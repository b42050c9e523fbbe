"""Hyperparameter search: the search overhead against plain trainer calls, and trials to 0.97 per sampler.

1. **Overhead** (target ≤ 5 %): a TPE study of N trials (SQLite storage, median pruner off so every trial
   trains the same epochs) against the same trials' values run as plain ``train()`` calls, interleaved
   trial by trial. The overhead is what the study adds: sampler, storage (ask, per-epoch reports, tell),
   run bookkeeping. Reported two ways: the study's own accounting (time outside the trainer over time
   inside it) and the wall time of the study's trials over the plain calls' (noisier).
2. **Trials to 0.97**: the lecture's comparison (grid, random, TPE; same space, budget, seed) of LeNet-5 on
   the built-in digits, for a few seeds: how many trials each needs before its best validation accuracy
   reaches 0.97 (3 epochs per trial by default, so that a poor learning rate or width does not get there).

    .venv/bin/python bench/bench_hpo.py [--trials 6] [--epochs 5] [--budget 12] [--compare-epochs 3]
                                        [--seeds 0,1,2] [--threads 1] [--skip-compare]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnnstudio.core import train_settings  # noqa: E402
from cnnstudio.core.search_space import Dimension, SearchSpace  # noqa: E402
from cnnstudio.core.spec import load_spec  # noqa: E402
from cnnstudio.ml.datasets import load_dataset  # noqa: E402
from cnnstudio.ml.hpo.compare import ComparisonDone, run_comparison  # noqa: E402
from cnnstudio.ml.hpo.events import StudyDone, TrialDone, TrialStarted  # noqa: E402
from cnnstudio.ml.hpo.runner import StudySettings, run_study  # noqa: E402
from cnnstudio.ml.trainer import train  # noqa: E402

SPACE = SearchSpace((
    Dimension("training", "lr", "float", low=1e-4, high=1e-1, log=True),
    Dimension("layer", "out_channels", "int", layer="c1", low=2, high=12),
))


def overhead(spec, data, training, folder: Path, trials: int) -> None:
    settings = StudySettings(storage=f"sqlite:///{folder / 'bench.db'}", study="overhead", sampler="tpe",
                             pruner="none", trials=trials, seed=0)
    # warm up: the first training run imports parts of torch lazily; neither side should pay for that
    for _ in train(spec, data, {**training, "epochs": 1}, folder / "warm-up", export=False):
        pass
    # each trial's values also run as a plain trainer call (same run-folder writing, no study) right before
    # (odd trials) or after (even trials) the study's trial, so both see the same machine load and neither
    # always goes first; the plain calls' time is taken out of the study's
    done, plain = None, []

    def plain_call(number: int, values: dict) -> None:
        trial_spec, trial_training = SPACE.apply(values, spec, training)
        t = time.perf_counter()
        for _ in train(trial_spec, data, trial_training, folder / f"plain-{number}", export=False):
            pass
        plain.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    for event in run_study(spec, data, training, SPACE, settings, folder / "study"):
        if isinstance(event, (TrialStarted, TrialDone)) and (event.number % 2 == 1) == isinstance(event, TrialStarted):
            plain_call(event.number, event.params)
        elif isinstance(event, StudyDone):
            done = event
    study_wall = time.perf_counter() - t0 - sum(plain)
    seconds = done.seconds - sum(plain)
    inside = done.training_seconds
    per_trial = (seconds - inside - done.setup_seconds) / trials
    print(f"overhead: {trials} TPE trials of LeNet-5 x {training['epochs']} epochs on the digits (SQLite storage)")
    print(f"  per trial: {1000 * per_trial:.0f} ms of search (ask, suggest, {training['epochs']} reports, tell, "
          f"trial.json) over {inside / trials:.2f} s of training = {100 * per_trial * trials / inside:.2f} % "
          "(target <= 5 %)")
    print(f"  once per session: importing Optuna, opening the storage and the study {done.setup_seconds:.2f} s; with it "
          f"{100 * (seconds - inside) / inside:.2f} % of this {trials}-trial study's training time")
    print(f"  wall time: study {study_wall:.1f} s vs the same trials as plain train() calls {sum(plain):.1f} s "
          f"= {100 * (study_wall / sum(plain) - 1):+.2f} %; without the opening "
          f"{100 * ((study_wall - done.setup_seconds) / sum(plain) - 1):+.2f} % (noisy: a shared machine)")


def compare(spec, data, training, folder: Path, budget: int, seeds: list[int]) -> None:
    t0 = time.perf_counter()
    hits: dict[str, list] = {}
    bests: dict[str, list] = {}
    grid_points = 0
    for seed in seeds:
        result = None
        for event in run_comparison(spec, data, training, SPACE, budget=budget, seed=seed,
                                    storage=f"sqlite:///{folder / 'cmp.db'}", study_prefix=f"bench-{seed}",
                                    out_dir=folder / f"cmp-{seed}"):
            if isinstance(event, ComparisonDone):
                result = event
        grid_points = result.grid_points
        for sampler, hit in result.trials_to_target.items():
            hits.setdefault(sampler, []).append(hit)
            bests.setdefault(sampler, []).append(max((v for v in result.curves[sampler] if v is not None),
                                                     default=float("nan")))
    print(f"trials to 0.97 val accuracy: LeNet-5 on the digits, {training['epochs']} epochs per trial, budget "
          f"{budget} per sampler, seeds {', '.join(map(str, seeds))}; space lr 1e-4..1e-1 (log) x c1.out_channels "
          f"2..12 (grid {grid_points} points); {time.perf_counter() - t0:.0f} s")
    for sampler in hits:
        per_seed = ", ".join("-" if h is None else str(h) for h in hits[sampler])
        reached = [h for h in hits[sampler] if h is not None]
        median = statistics.median(reached) if len(reached) == len(hits[sampler]) else None
        summary = f"median {median:g}" if median is not None else f"reached in {len(reached)}/{len(seeds)} seeds"
        print(f"  {sampler:<6} per seed: {per_seed:<16} {summary:<22} best {max(bests[sampler]):.4f}")
    print("  (- : not reached within the budget; TPE's first trials are random search's with the same seed)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6, help="trials of the overhead study")
    parser.add_argument("--budget", type=int, default=12, help="trials per sampler in the comparison")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (1: steadier timings)")
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the comparison, comma-separated")
    parser.add_argument("--compare-epochs", type=int, default=3, help="epochs per trial in the comparison")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-compare", action="store_true")
    args = parser.parse_args()
    spec = load_spec("lenet5")
    data = load_dataset({"source": "digits", "seed": 0})
    training = {**train_settings.defaults(), "epochs": args.epochs, "device": args.device, "threads": args.threads}
    with tempfile.TemporaryDirectory() as tmp:
        overhead(spec, data, training, Path(tmp), args.trials)
        if not args.skip_compare:
            compare(spec, data, {**training, "epochs": args.compare_epochs}, Path(tmp), args.budget,
                    [int(v) for v in args.seeds.split(",") if v.strip()])
    return 0


if __name__ == "__main__":
    sys.exit(main())
