"""``cnnstudio hpo``: a hyperparameter search (grid, random, TPE, GP) on Optuna, one run folder per trial."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cnnstudio.core.data_config import data_help
from cnnstudio.core.errors import UserError

NAME = "hpo"
ORDER = 35
HELP = "search hyperparameters (grid, random, TPE or GP on Optuna); one run folder per trial"
DESCRIPTION = (
    "Search the training settings and layer parameters of SPEC_OR_TEMPLATE given in --space (default: the "
    "learning rate and the batch size) with Optuna. Each trial is a run folder under --out. The study lives "
    "in --storage (default: a SQLite file in --out), so running the same command again resumes it, and "
    "several processes given the same --storage URL and --study name share one study (each with its own "
    "--seed). Prints a table of the trials and the best one."
)


#: the training options with a flag of their own: how each trial trains (the rest: --set, or the search space)
TRIAL_FLAGS = ("epochs", "device", "threads")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from cnnstudio.commands.train import add_data_flags, add_training_flags
    from cnnstudio.core.experiments import PRUNER_NAMES, SAMPLER_NAMES

    parser.add_argument("spec", metavar="SPEC_OR_TEMPLATE", help="network spec file or template name")
    parser.add_argument("--data", default="digits", metavar="SOURCE", help=data_help())
    parser.add_argument("--sampler", default="tpe", choices=SAMPLER_NAMES,
                        help="grid search, random search, or Bayesian (TPE, Gaussian process); default tpe")
    parser.add_argument("--pruner", default="median", choices=PRUNER_NAMES,
                        help="stop poor trials early from their per-epoch validation metric (default median)")
    parser.add_argument("--trials", type=int, default=20, help="trials the study runs in all (default 20)")
    parser.add_argument("--space", metavar="SPACE_JSON", help="search space file (cnnstudio-search-space)")
    parser.add_argument("--storage", metavar="URL",
                        help="sqlite:///FILE.db, postgresql://USER:PW@HOST:PORT/DB, mysql://…, or journal:FILE.log "
                             "(default: sqlite in --out)")
    parser.add_argument("--study", default="study", metavar="NAME", help="study name in the storage (default study)")
    parser.add_argument("--out", metavar="DIR", help="folder for the trials' run folders (default runs/hpo-<study>)")
    parser.add_argument("--metric", default="val_accuracy", choices=["val_accuracy", "val_loss", "val_iou"],
                        help="what the study optimizes (default val_accuracy, maximized)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the sampler and of the trials' training (default 0)")
    parser.add_argument("--set", action="append", default=[], metavar="SETTING=VALUE",
                        help="a fixed training setting of every trial, e.g. --set batch_size=64 (repeatable)")
    add_training_flags(parser, only=TRIAL_FLAGS)  # of each trial; the rest: --set
    add_data_flags(parser)
    parser.add_argument("--fit-classes", action="store_true",
                        help="resize the network's last layer to the data's classes")
    parser.add_argument("--export", action="store_true", help="also export model.onnx for every trial")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    from cnnstudio.core.launch_scripts import SEARCH_KINDS, add_cluster_arguments

    add_cluster_arguments(parser, SEARCH_KINDS)  # --emit-script slurm|shell: workers sharing the study


def run(args: argparse.Namespace) -> int:
    from cnnstudio.commands._launch import emit_search, search_worker, with_search_end
    from cnnstudio.commands._output import format_duration, print_json
    from cnnstudio.commands.train import data_config_from, fit_spec_to_data
    from cnnstudio.core.experiments import study_slug
    from cnnstudio.core.search_space import default_space, load_space
    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.hpo.events import StudyDone, StudyStarted, TrialDone, TrialStarted
    from cnnstudio.ml.hpo.runner import StudySettings, run_study
    from cnnstudio.ml.hpo.storage import normalize_storage_url

    if getattr(args, "emit_script", None):  # a script starting search workers on a cluster instead
        return emit_search(args)
    spec = load_spec(args.spec)
    space = load_space(args.space) if args.space else default_space()
    space.check(spec)
    out = Path(args.out) if args.out else Path("runs") / f"hpo-{study_slug(args.study)}"
    storage = normalize_storage_url(args.storage) if args.storage else f"sqlite:///{out / 'study.optuna.db'}"
    settings = StudySettings(storage=storage, study=args.study, sampler=args.sampler, pruner=args.pruner,
                             trials=args.trials, seed=args.seed, metric=args.metric, export=args.export,
                             extra={"data": args.data})
    settings.validate()
    training = _training(args)
    search = search_worker(training)  # under torchrun: one worker whose trials are DDP runs (docs/scale-out.md)
    data_config = data_config_from(args.data, args)
    from cnnstudio.ml.datasets import load_dataset

    data = load_dataset(data_config)
    spec = fit_spec_to_data(spec, data, args.fit_classes)
    if search.active and not search.writes:  # another process of the worker: trains the trials rank 0 sends
        return search.follow(data, data_config)

    done: list[TrialDone] = []
    result: StudyDone | None = None
    started: StudyStarted | None = None
    for event in with_search_end(run_study(spec, data, training, space, settings, out, data_config=data_config)):
        if isinstance(event, StudyStarted):
            started = event
            resumed = f", {event.trials_done} done before" if event.trials_done else ""
            _say(args, f"Study {event.study} in {event.storage}: {event.sampler}, pruner {event.pruner}, "
                       f"{event.budget} trials of {event.epochs} epochs{resumed}")
        elif isinstance(event, TrialStarted):
            _say(args, f"trial {event.number}: " + _params_text(event.params))
        elif isinstance(event, TrialDone):
            done.append(event)
            value = "-" if event.value is None else f"{event.value:.4f}"
            best = "" if event.best_value is None else f"; best {event.best_value:.4f} (trial {event.best_number})"
            left = max(0, event.budget - event.trials_done)
            mean = sum(t.seconds for t in done) / len(done)
            _say(args, f"trial {event.number} {event.state}: {args.metric} {value} in {event.seconds:.1f} s "
                       f"[{event.trials_done}/{event.budget}{best}; ETA {format_duration(left * mean)}]")
            if event.state == "failed" and event.message:
                _say(args, f"  {event.message}")
        elif isinstance(event, StudyDone):
            result = event
    if result is None or started is None:
        raise UserError("The study ended without a result.")
    if result.status == "failed":
        raise UserError(result.message)
    rows = _table_rows(settings, space)
    if args.json:
        print_json({"study": result.study, "storage": started.storage, "status": result.status,
                    "sampler": settings.sampler, "pruner": settings.pruner, "metric": settings.metric,
                    "trials_done": result.trials_done, "budget": result.budget,
                    "best": {"number": result.best_number, "value": result.best_value, "params": result.best_params,
                             "run_dir": result.best_run_dir},
                    "trials": rows, "seconds": round(result.seconds, 3),
                    "training_seconds": round(result.training_seconds, 3), "message": result.message})
        return 0 if result.status != "cancelled" else 1
    _print_table(rows, space, args.metric)
    if result.message:
        print(result.message)
    if result.best_number is not None:
        print(f"Best trial {result.best_number}: {args.metric} {result.best_value:.4f} with "
              f"{_params_text(result.best_params)}")
        print(f"Run folder: {result.best_run_dir}")
    else:
        print("No trial completed.")
    print(f"{result.trials_done}/{result.budget} trials; {result.seconds:.1f} s "
          f"({result.training_seconds:.1f} s training)")
    return 0 if result.status != "cancelled" else 1


def _training(args: argparse.Namespace) -> dict:
    import json

    from cnnstudio.commands.train import training_from_flags
    from cnnstudio.core import train_settings

    training = train_settings.defaults()
    training.update(training_from_flags(args, TRIAL_FLAGS))  # a bad value stops here, not in every trial
    training["seed"] = train_settings.check("seed", args.seed)
    for item in args.set:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep:
            raise UserError(f"--set {item}: write SETTING=VALUE, e.g. --set batch_size=64.")
        try:
            train_settings.option(name)
        except KeyError:
            raise UserError(f"--set {item}: there is no training setting {name!r}.") from None
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        training[name] = train_settings.check(name, value)
    return training


def _table_rows(settings, space) -> list[dict]:
    from cnnstudio.ml.hpo.results import trial_rows
    from cnnstudio.ml.hpo.runner import load_study

    return trial_rows(load_study(settings.storage, settings.study), space)


def _print_table(rows: list[dict], space, metric: str) -> None:
    from cnnstudio.commands._output import format_table

    keys = list(space.keys)
    table = [[r["number"], r["state"], "-" if r["value"] is None else r["value"],
              *[r["params"].get(k, "") for k in keys], r["epochs"], r["seconds"]] for r in rows]
    print(format_table(["trial", "state", metric, *keys, "epochs", "seconds"], table,
                       align="rl" + "r" * (len(keys) + 3)))


def _params_text(params: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def _say(args, text: str) -> None:
    print(text, file=sys.stderr if args.json else sys.stdout, flush=True)
