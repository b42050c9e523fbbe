"""``--emit-script``: the launch script of a ``cnnstudio train`` or ``cnnstudio hpo`` command line.

The cnnstudio arguments in the script are rebuilt from the parsed flags (those the user gave), so the
cluster runs the same command; the generator is :mod:`cnnstudio.core.launch_scripts`.
"""

from __future__ import annotations

import argparse
import sys

from cnnstudio.core import launch_scripts as ls
from cnnstudio.core.errors import UserError


def _given(args: argparse.Namespace, flags: list[tuple[str, str]]) -> list[str]:
    out: list[str] = []
    for dest, flag in flags:
        value = getattr(args, dest, None)
        if value is None or value is False or value == []:
            continue
        if value is True:
            out.append(flag)
        elif isinstance(value, list):
            for item in value:
                out += [flag, str(item)]
        else:
            out += [flag, str(value)]
    return out


def _data_flags(args: argparse.Namespace) -> list[str]:
    flags = ["--data", str(args.data)]
    flags += _given(args, [("val_fraction", "--val-fraction"), ("samples", "--samples")])
    if getattr(args, "data_seed", 0):
        flags += ["--data-seed", str(args.data_seed)]
    return flags


def _check_template(spec: str) -> None:
    """A template name is checked here (a typo should not cost a queued job); paths are the cluster's."""
    if spec and "/" not in spec and "\\" not in spec and "." not in spec:
        from cnnstudio.core.spec import load_spec

        load_spec(spec)


def emit_train(args: argparse.Namespace, overrides: dict) -> int:
    """Print or save the launch script of this ``cnnstudio train`` command line."""
    from cnnstudio.core import train_settings

    settings = ls.settings_from_args(args)
    training = [(o.name, o.cli) for o in train_settings.OPTIONS
                if o.cli and o.name in overrides and o.name not in ls.MACHINE_OPTIONS]
    if args.resume:
        argv = ["train", "--resume", str(args.resume), *_given(args, training)]
    else:
        if not args.spec:
            raise UserError("Name the network to train (a spec file or a template such as lenet5).")
        if not args.out:
            raise UserError("A launch script trains into a fixed run folder: give --out RUN_DIR.")
        _check_template(args.spec)
        argv = ["train", str(args.spec), *_data_flags(args), "--out", str(args.out), *_given(args, training)]
        argv += ["--fit-classes"] if args.fit_classes else []
    return _write(ls.train_script(argv, settings), args)


def emit_search(args: argparse.Namespace) -> int:
    """Print or save the search-workers script of this ``cnnstudio hpo`` command line."""
    from cnnstudio.core.experiments import study_slug

    settings = ls.settings_from_args(args)
    _check_template(args.spec)
    out = args.out or f"runs/hpo-{study_slug(args.study)}"
    argv = ["hpo", str(args.spec), *_data_flags(args),
            *_given(args, [("sampler", "--sampler"), ("pruner", "--pruner"), ("trials", "--trials"),
                           ("space", "--space"), ("metric", "--metric"), ("epochs", "--epochs"),
                           ("set", "--set"), ("fit_classes", "--fit-classes"), ("export", "--export")])]
    return _write(ls.search_script(argv, settings, args.storage, args.study, out, args.seed), args)


def _write(script: str, args: argparse.Namespace) -> int:
    if args.script_file:
        ls.save_script(args.script_file, script)
        print(f"Wrote {args.script_file} ({args.emit_script}, {args.nodes} x {args.gpus_per_node} GPUs).",
              file=sys.stderr)
    else:
        sys.stdout.write(script)
    return 0



class _SearchWorker:
    """This process's part of a ``cnnstudio hpo`` worker (several processes when started by torchrun)."""

    def __init__(self, shard):
        self.shard = shard
        self.active, self.writes = shard.active, shard.writes

    def follow(self, data, data_config) -> int:
        from cnnstudio.ml.training import distributed

        try:
            distributed.follow_trials(data, data_config)
        finally:
            distributed.end_search()
        return 0


def search_worker(training: dict) -> _SearchWorker:
    """Join torchrun's process group when there is one: rank 0 runs the study, the others follow its trials."""
    from cnnstudio.ml.training import distributed

    return _SearchWorker(distributed.join_search(str(training.get("device") or "auto")))


def with_search_end(events):
    """The study's events; afterwards (or on an error) rank 0 tells the other processes that it is over."""
    from cnnstudio.ml.training import distributed

    try:
        yield from events
    finally:
        distributed.end_search()
