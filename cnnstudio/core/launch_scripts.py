"""Launch scripts for a cluster: the same ``cnnstudio train`` / ``cnnstudio hpo`` run on many GPUs and machines.

Torch-free: ``cnnstudio train --emit-script``, ``cnnstudio hpo --emit-script`` and the "Run on a cluster…"
dialogs write the text built here. The scripts hand the work to existing engines, never a home-made one:

- **torchrun** (training): ``python -m torch.distributed.run`` starts one process per GPU; on one machine
  with ``--standalone``, on several with the c10d rendezvous at ``MASTER_ADDR:MASTER_PORT`` (the same
  script on every machine). Each process runs ``-m cnnstudio train`` with DistributedDataParallel.
- **slurm**: an ``sbatch`` script; for training ``srun`` starts torchrun once per node, for a search one
  ``cnnstudio hpo`` worker per task (``--gpus-per-task``), all sharing one Optuna study.
- **shell** (search): run on each machine; starts that machine's ``cnnstudio hpo`` workers.

A search worker has one GPU, or several: then it runs under torchrun and trains each trial with DDP.

Every value from the user is quoted with :func:`shlex.quote`; tests check the scripts with ``bash -n``.
A training script that finds ``checkpoints/last.pt`` in its run folder resumes it, so a requeued or
preempted job goes on where it stopped.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import datetime, timezone

from cnnstudio.core.errors import UserError

#: kind -> what it is (the train command's choices)
TRAIN_KINDS = {"torchrun": "torchrun: one machine, or the same script on each of several",
               "slurm": "SLURM batch job (sbatch)"}
#: kind -> what it is (the hpo command's choices)
SEARCH_KINDS = {"slurm": "SLURM batch job: one search worker per GPU",
                "shell": "shell script for each machine: one search worker per GPU"}
#: training options that describe the machine, not the experiment: a cluster node picks its own
MACHINE_OPTIONS = ("device", "threads")
_TIME = re.compile(r"^(\d+-)?\d{1,3}(:\d{2}){0,2}$")
_SERVER_STORAGES = ("postgresql", "postgres", "mysql", "mariadb")


@dataclass(frozen=True)
class ClusterSettings:
    """Where and how the script runs: scheduler, node and GPU counts, job limits, set-up lines."""

    kind: str = "torchrun"
    nodes: int = 1
    gpus_per_node: int = 1
    job_name: str = "cnnstudio"
    time_limit: str = "04:00:00"  # SLURM --time (D-HH:MM:SS, HH:MM:SS, MM:SS or minutes)
    partition: str = ""  # SLURM partition; "" = the cluster's default
    cpus_per_gpu: int = 4
    port: int = 29500  # the rendezvous port on the first machine
    python: str = "python"  # the interpreter on the cluster that has cnnstudio installed
    setup: str = ""  # shell lines run first, e.g. "module load cuda" or "source ~/venv/bin/activate"
    workdir: str = ""  # the folder relative paths are read from; "" = where the script is started
    gpus_per_worker: int = 1  # a search: GPUs of one worker (more than 1: the worker runs under torchrun)

    def validate(self, kinds: dict[str, str]) -> None:
        if self.kind not in kinds:
            raise UserError(f"Unknown script kind {self.kind!r}: choose {' or '.join(kinds)}.")
        for name, value, top in (("nodes", self.nodes, 10_000), ("GPUs per node", self.gpus_per_node, 1024),
                                 ("CPUs per GPU", self.cpus_per_gpu, 1024)):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
                raise UserError(f"The number of {name} must be a whole number from 1 to {top:,}, not {value!r}.")
        per = self.gpus_per_worker
        if not isinstance(per, int) or isinstance(per, bool) or per < 1 or self.gpus_per_node % per:
            raise UserError(f"The GPUs per search worker ({per!r}) must divide the GPUs per machine "
                            f"({self.gpus_per_node}).")
        if not 1 <= int(self.port) <= 65535:
            raise UserError(f"The rendezvous port must be from 1 to 65535, not {self.port}.")
        if self.kind == "slurm" and not _TIME.match(self.time_limit.strip()):
            raise UserError(f"The time limit {self.time_limit!r} is not a SLURM time such as 04:00:00 or 1-12:00:00.")
        if not self.job_name.strip() or not re.fullmatch(r"[\w.+-]+", self.job_name.strip()):
            raise UserError(f"The job name {self.job_name!r} may only hold letters, digits and . _ + -.")
        if self.partition and not re.fullmatch(r"[\w.,-]+", self.partition):
            raise UserError(f"The partition {self.partition!r} is not a SLURM partition name.")
        if not self.python.strip():
            raise UserError("Name the Python interpreter on the cluster (for example python or ~/venv/bin/python).")

    @property
    def processes(self) -> int:
        return self.nodes * self.gpus_per_node

    @property
    def workers(self) -> int:
        """Search workers in all (each of ``gpus_per_worker`` GPUs)."""
        return self.nodes * (self.gpus_per_node // self.gpus_per_worker)


# --- the cnnstudio command lines ---------------------------------------------------------------------
def training_flags(training: dict) -> list[str]:
    """The ``cnnstudio train`` flags of the training options in ``training`` that differ from the defaults.

    The machine options (device, CPU threads) are left out: each cluster node uses its own GPU.
    """
    from cnnstudio.core import train_settings

    flags: list[str] = []
    for opt in train_settings.OPTIONS:
        if not opt.cli or opt.name in MACHINE_OPTIONS or opt.name not in training:
            continue
        value = opt.check(training[opt.name])
        if value == opt.default:
            continue
        if opt.kind == "bool":
            if value:  # a store_true flag; the only bools default to off
                flags.append(opt.cli)
            continue
        flags += [opt.cli, opt.format(value).split(" (")[0] if opt.kind in ("int", "float") else str(value)]
    return flags


def data_flags(data: dict) -> list[str]:
    """``--data`` and the split/subset flags of a project "data" dict (see commands/train.py)."""
    from cnnstudio.core.data_config import FOLDER_SOURCES, SOURCE_FIELDS

    source = str(data.get("source") or "digits")
    where = str(data.get("path") or "") if source in FOLDER_SOURCES else source
    if not where:
        raise UserError("The data folder is not set; choose one in the Data workspace first.")
    flags = ["--data", where]
    if data.get("val_fraction") is not None:
        flags += ["--val-fraction", repr(float(data["val_fraction"]))]
    if data.get("seed") not in (None, 0):
        flags += ["--data-seed", str(int(data["seed"]))]
    generated = any(f.name == "num_samples" for f in SOURCE_FIELDS.get(source, ()))  # shapes, scenes, …
    samples = data.get("num_samples") if generated else data.get("max_samples")
    if samples:
        flags += ["--samples", str(int(samples))]
    return flags


def train_arguments(spec: str, data: dict, out: str, training: dict | None = None,
                    fit_classes: bool = False) -> list[str]:
    """``cnnstudio`` arguments that train ``spec`` (a file or template) on ``data`` into the run folder ``out``."""
    if not str(spec).strip():
        raise UserError("Name the network to train (a spec file or a template such as lenet5).")
    if not str(out).strip():
        raise UserError("Name the run folder the cluster writes (for example runs/lenet5-cluster).")
    args = ["train", str(spec), *data_flags(data), "--out", str(out), *training_flags(training or {})]
    return args + (["--fit-classes"] if fit_classes else [])


# --- the scripts -----------------------------------------------------------------------------------------
def _q(items: list[str]) -> str:
    return " ".join(shlex.quote(str(s)) for s in items)


def _header(title: str, lines: list[str], settings: ClusterSettings, slurm: list[str]) -> list[str]:
    from cnnstudio import __version__

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = ["#!/usr/bin/env bash", *slurm, f"# {title}", f"# Written by CNN Studio {__version__} on {stamp}."]
    out += [f"# {line}" if line else "#" for line in lines]
    out += ["set -euo pipefail", ""]
    if settings.workdir:
        out.append(f"cd {shlex.quote(settings.workdir)}")
    if settings.setup.strip():
        out += ["# set-up", *settings.setup.strip().splitlines()]
    out.append(f'PYTHON="${{PYTHON:-{_shell_path(settings.python.strip())}}}"')
    return out


def _shell_path(path: str) -> str:
    """``path`` quoted for bash inside double quotes, a leading ``~/`` kept as the home folder."""
    if path.startswith("~/"):
        return '$HOME/' + _in_double_quotes(path[2:])
    return _in_double_quotes(path)


def _in_double_quotes(text: str) -> str:
    """``text`` safe inside a double-quoted bash word (no expansion of $, ` or \\)."""
    return re.sub(r'([$`"\\}])', r"\\\1", text)


def _sbatch(settings: ClusterSettings, ntasks_per_node: int, gpus_per_task: int = 0) -> list[str]:
    lines = [f"#SBATCH --job-name={settings.job_name.strip()}", f"#SBATCH --nodes={settings.nodes}",
             f"#SBATCH --ntasks-per-node={ntasks_per_node}"]
    if gpus_per_task:
        lines += [f"#SBATCH --gpus-per-task={gpus_per_task}",
                  f"#SBATCH --cpus-per-task={settings.cpus_per_gpu * gpus_per_task}"]
    else:
        lines += [f"#SBATCH --gpus-per-node={settings.gpus_per_node}",
                  f"#SBATCH --cpus-per-task={settings.cpus_per_gpu * settings.gpus_per_node}"]
    lines += [f"#SBATCH --time={settings.time_limit.strip()}", "#SBATCH --output=%x-%j.out"]
    if settings.partition:
        lines.append(f"#SBATCH --partition={settings.partition}")
    if settings.workdir:
        lines.append(f"#SBATCH --chdir={settings.workdir}")
    return lines


def _run_folder(args: list[str]) -> str:
    for flag in ("--out", "--resume"):
        if flag in args[:-1]:
            return args[args.index(flag) + 1]
    raise UserError("A launch script trains into a fixed run folder: give --out RUN_DIR.")


def train_script(args: list[str], settings: ClusterSettings) -> str:
    """A bash script that runs the ``cnnstudio`` training ``args`` (from :func:`train_arguments`) with DDP."""
    settings.validate(TRAIN_KINDS)
    if not args or args[0] != "train":
        raise ValueError("train_script takes the arguments of `cnnstudio train`")
    out = _run_folder(args)
    procs = f"{settings.nodes} machine{'s' if settings.nodes > 1 else ''} x {settings.gpus_per_node} GPU" + (
        "s" if settings.gpus_per_node > 1 else "")
    n = settings.processes
    what = [f"Trains with DistributedDataParallel on {procs} = {n} process{'es' if n > 1 else ''}",
            "(one per GPU; NCCL on CUDA, gloo on a CPU).",
            "The batch size is the global batch: each process takes its share of every batch.",
            f"Only the first process writes the run folder {out}; if it holds checkpoints/last.pt",
            "(an interrupted or requeued job), the run is resumed, with any number of processes."]
    rdzv = ['--rdzv_backend c10d --rdzv_endpoint "$MASTER_ADDR:$MASTER_PORT"']
    if settings.kind == "torchrun":
        usage = (["On one machine:  bash THIS_SCRIPT"] if settings.nodes == 1 else
                 [f"On each of the {settings.nodes} machines, with the first machine's address:",
                  "  MASTER_ADDR=first-host bash THIS_SCRIPT",
                  "torchrun waits until all of them have joined (c10d rendezvous)."])
        lines = _header("CNN Studio launch script: torchrun", what + [""] + usage, settings, [])
        lines += [f'NNODES="${{NNODES:-{settings.nodes}}}"',
                  f'NPROC_PER_NODE="${{NPROC_PER_NODE:-{settings.gpus_per_node}}}"',
                  'MASTER_ADDR="${MASTER_ADDR:-localhost}"', f'MASTER_PORT="${{MASTER_PORT:-{settings.port}}}"',
                  f'RUN_ID="${{RUN_ID:-{settings.job_name.strip()}}}"']
        launch_multi = ['"$PYTHON" -m torch.distributed.run --nnodes "$NNODES" --nproc_per_node "$NPROC_PER_NODE"',
                        *rdzv, '--rdzv_id "$RUN_ID"']
        launch_single = ['"$PYTHON" -m torch.distributed.run --standalone --nnodes 1 --nproc_per_node "$NPROC_PER_NODE"']
    else:
        usage = ["Submit with:  sbatch THIS_SCRIPT"]
        lines = _header("CNN Studio launch script: SLURM", what + [""] + usage, settings,
                        _sbatch(settings, 1))
        lines += ['mapfile -t NODES < <(scontrol show hostnames "$SLURM_JOB_NODELIST")',
                  'MASTER_ADDR="${NODES[0]}"',
                  f'MASTER_PORT="${{MASTER_PORT:-{settings.port}}}"']
        launch_multi = ['srun "$PYTHON" -m torch.distributed.run --nnodes "$SLURM_JOB_NUM_NODES"',
                        f"--nproc_per_node {settings.gpus_per_node}", *rdzv, '--rdzv_id "$SLURM_JOB_ID"']
        launch_single = launch_multi
    lines += [f"OUT={shlex.quote(out)}", "",
              'if [ -f "$OUT/checkpoints/last.pt" ]; then',
              '  ARGS=(train --resume "$OUT")',
              "else",
              f"  ARGS=({_q(args)})",
              "fi"]
    multi = " \\\n  ".join(launch_multi) + ' \\\n  -m cnnstudio "${ARGS[@]}"'
    single = " \\\n  ".join(launch_single) + ' \\\n  -m cnnstudio "${ARGS[@]}"'
    if settings.kind == "torchrun":
        lines += ['if [ "$NNODES" -eq 1 ]; then', "  exec " + single.replace("\n", "\n  "), "fi", "exec " + multi]
    else:
        lines.append(multi)
    return "\n".join(lines) + "\n"


def check_search_storage(storage: str | None, settings: ClusterSettings) -> str | None:
    """The storage URL the workers share (None: one worker's default), or a UserError saying what is needed."""
    text = (storage or "").strip()
    scheme = text.split("://", 1)[0].split("+", 1)[0].lower() if "://" in text else ""
    if settings.nodes > 1 and scheme not in _SERVER_STORAGES and not text.startswith("journal:"):
        raise UserError(f"{settings.nodes} machines share one study through a database server: use a storage "
                        "such as postgresql://USER:PASSWORD@HOST:5432/DB (--storage), or journal:FILE on a file "
                        "system all machines share.")
    if scheme == "sqlite" and settings.workers > 1:
        raise UserError("Several search workers cannot share a SQLite file safely: use a storage such as "
                        "postgresql://… or journal:FILE.log (--storage).")
    return text or None


def search_script(args: list[str], settings: ClusterSettings, storage: str | None, study: str,
                  out: str, seed: int = 0) -> str:
    """A bash script that runs ``cnnstudio hpo`` workers, all filling one study.

    A worker has ``settings.gpus_per_worker`` GPUs: with one it is a plain process; with more it runs under
    torchrun and every trial is a DistributedDataParallel training of its processes. ``args`` are the
    worker's ``hpo`` arguments without --storage, --study, --seed and --out (added here: worker ``i`` gets
    seed ``seed + i``, so the workers sample different points).
    """
    settings.validate(SEARCH_KINDS)
    if not args or args[0] != "hpo":
        raise ValueError("search_script takes the arguments of `cnnstudio hpo`")
    if not str(study).strip():
        raise UserError("Name the study the workers share (--study NAME).")
    per = settings.gpus_per_worker
    storage = check_search_storage(storage, settings)
    if storage is None:
        storage = f"journal:{out.rstrip('/')}/study.journal"
    secret = bool(re.search(r"://[^:/@]+:[^@]+@", storage))
    workers = settings.workers
    layout = "one per GPU" if per == 1 else f"{per} GPUs each, under torchrun (every trial a DDP training)"
    what = [f"A hyperparameter search shared by {workers} worker{'s' if workers > 1 else ''} "
            f"({settings.nodes} machine{'s' if settings.nodes > 1 else ''} x {settings.gpus_per_node} GPU"
            f"{'s' if settings.gpus_per_node > 1 else ''}), {layout}.",
            f"The workers share the Optuna study {study!r}: each asks it for the next trial and reports back,",
            "so the trial budget (--trials) counts all of them. Follow it in the Experiments workspace",
            "(open the same storage and press Refresh) or run the same command there."]
    if secret:
        what.append("The storage URL holds a password: keep this file private or set CNNSTUDIO_STORAGE instead.")
    base = [*args, "--study", study, "--out", out]
    launcher = (f'"$PYTHON" -m torch.distributed.run --standalone --nproc_per_node {per} -m cnnstudio' if per > 1
                else '"$PYTHON" -m cnnstudio')
    if settings.kind == "shell":
        usage = ["Run on each machine (NODE_RANK 0, 1, … so that the seeds differ):",
                 "  NODE_RANK=0 bash THIS_SCRIPT"]
        lines = _header("CNN Studio search workers", what + [""] + usage, settings, [])
        gpus = '"$i"' if per == 1 else f'"$(seq -s, $((i * {per})) $((i * {per} + {per - 1})))"'
        lines += ['NODE_RANK="${NODE_RANK:-0}"', f'WORKERS="${{WORKERS:-{settings.gpus_per_node // per}}}"',
                  f'STORAGE="${{CNNSTUDIO_STORAGE:-{_in_double_quotes(storage)}}}"', f"SEED={int(seed)}",
                  f"OUT={shlex.quote(out)}", 'mkdir -p "$OUT"', "pids=()",
                  'for ((i = 0; i < WORKERS; i++)); do',
                  '  worker=$((NODE_RANK * WORKERS + i))',
                  f'  CUDA_VISIBLE_DEVICES={gpus} {launcher} {_q(base)} \\',
                  '    --storage "$STORAGE" --seed $((SEED + worker)) > "$OUT/worker-$worker.log" 2>&1 &',
                  '  pids+=("$!")',
                  "done",
                  "status=0",
                  'for pid in "${pids[@]}"; do wait "$pid" || status=1; done',
                  'echo "search workers finished (status $status); logs in $OUT/worker-*.log"',
                  'exit "$status"']
    else:
        usage = ["Submit with:  sbatch THIS_SCRIPT"]
        lines = _header("CNN Studio search workers: SLURM", what + [""] + usage, settings,
                        _sbatch(settings, settings.gpus_per_node // per, gpus_per_task=per))
        inner = launcher.replace('"$PYTHON"', '"$0"')
        lines += [f'export STORAGE="${{CNNSTUDIO_STORAGE:-{_in_double_quotes(storage)}}}"', f"export SEED={int(seed)}",
                  f"OUT={shlex.quote(out)}", 'mkdir -p "$OUT"',
                  f"# each task ({per} GPU{'s' if per > 1 else ''}) is one worker; SLURM_PROCID makes its seed differ",
                  "srun bash -c " + shlex.quote(f'exec {inner} "$@" --storage "$STORAGE" --seed $((SEED + SLURM_PROCID))')
                  + " \\",
                  f'  "$PYTHON" {_q(base)}']
    return "\n".join(lines) + "\n"


def is_private(script: str) -> bool:
    """Whether the script holds a password (then it is saved readable by its owner only)."""
    return bool(re.search(r"://[^:/@\s'\"]+:[^@\s'\"]+@", script))


# --- the command-line options of --emit-script (commands/train.py and commands/hpo.py) ---------------------
def add_cluster_arguments(parser, kinds: dict[str, str]) -> None:
    """``--emit-script KIND`` and the cluster options beside it (argparse; no training options)."""
    group = parser.add_argument_group("launch script (instead of running here)")
    group.add_argument("--emit-script", choices=list(kinds), metavar="KIND",
                       help=f"write a {' or '.join(kinds)} launch script instead of running here "
                            "(docs/scale-out.md)")
    group.add_argument("--script-file", metavar="FILE", help="where to save the script (default: print it)")
    group.add_argument("--nodes", type=int, default=1, help="machines the script runs on (default 1)")
    group.add_argument("--gpus-per-node", type=int, default=1, help="GPUs on each machine (default 1)")
    group.add_argument("--partition", default="", help="SLURM partition (default: the cluster's)")
    group.add_argument("--time-limit", default="04:00:00", metavar="TIME", help="SLURM time limit (default 04:00:00)")
    group.add_argument("--job-name", default="cnnstudio", help="the job's name (default cnnstudio)")
    if "shell" in kinds:  # a search
        group.add_argument("--gpus-per-worker", type=int, default=1,
                           help="GPUs of each search worker (default 1); more: the worker runs under torchrun "
                                "and trains every trial with DistributedDataParallel")


def settings_from_args(args) -> ClusterSettings:
    return ClusterSettings(kind=args.emit_script, nodes=args.nodes, gpus_per_node=args.gpus_per_node,
                           partition=args.partition, time_limit=args.time_limit, job_name=args.job_name,
                           gpus_per_worker=getattr(args, "gpus_per_worker", 1))


def save_script(path, script: str) -> None:
    """Save ``script`` atomically and make it executable (owner-only when it holds a password)."""
    import os
    from pathlib import Path

    from cnnstudio.core.fileio import atomic_write_text

    target = Path(path)
    if target.is_dir():
        raise UserError(f"{target} is a folder; give a file name for the script, such as {target / 'job.sh'}.")
    try:
        atomic_write_text(target, script)
        mode = 0o700 if is_private(script) else (0o777 & ~_umask()) | 0o100
        os.chmod(target, mode)
    except OSError as exc:
        raise UserError(f"Cannot save the script {target}: {exc.strerror or exc}.") from None


def _umask() -> int:
    from cnnstudio.core.fileio import current_umask

    return current_umask()


def search_arguments(spec: str, data: dict, experiments: dict, training: dict | None = None,
                     space_file: str | None = None) -> list[str]:
    """``cnnstudio hpo`` arguments of a project's search (its "experiments" section), for :func:`search_script`.

    The project's training settings that differ from the defaults are fixed for every trial (``--set``).
    """
    import json

    from cnnstudio.core import train_settings

    args = ["hpo", str(spec), *data_flags(data), "--sampler", str(experiments.get("sampler", "tpe")),
            "--pruner", str(experiments.get("pruner", "median")), "--trials", str(int(experiments.get("trials", 20)))]
    if experiments.get("epochs"):
        args += ["--epochs", str(int(experiments["epochs"]))]
    if space_file:
        args += ["--space", str(space_file)]
    for opt in train_settings.OPTIONS:
        if opt.name in MACHINE_OPTIONS or opt.name in ("epochs", "seed") or opt.name not in (training or {}):
            continue
        value = opt.check(training[opt.name])
        if value != opt.default:
            args += ["--set", f"{opt.name}={value if isinstance(value, str) else json.dumps(value)}"]
    return args
