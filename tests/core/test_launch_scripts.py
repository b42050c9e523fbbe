"""Launch scripts for torchrun and SLURM (cnnstudio.core.launch_scripts): valid bash that runs the command given.

The scripts are checked with ``bash -n`` and run for real with stand-ins for python, srun and scontrol
that record the arguments they get, so the quoting is tested by bash itself.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest

from cnnstudio.core.errors import UserError
from cnnstudio.core.launch_scripts import (
    ClusterSettings,
    data_flags,
    save_script,
    search_script,
    train_arguments,
    train_script,
    training_flags,
)

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

ODD = {"source": "folder", "path": "/data/cats & dogs/it's $HOME", "val_fraction": 0.25, "seed": 4}


def _bash_n(text: str, tmp_path) -> None:
    path = tmp_path / "check.sh"
    path.write_text(text)
    done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _recorder(tmp_path, name: str, body: str = ""):
    """A stand-in executable that writes its arguments (one per line) to a file of its own in calls/."""
    path = tmp_path / "bin" / name
    path.parent.mkdir(exist_ok=True)
    calls = tmp_path / "calls"
    calls.mkdir(exist_ok=True)
    path.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$(mktemp "{calls}/call.XXXXXX")"\n{body}')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def _calls(tmp_path) -> list[list[str]]:
    return [f.read_text().rstrip("\n").split("\n") for f in sorted((tmp_path / "calls").glob("call.*"))]


def test_training_flags_come_from_the_schema_and_leave_the_machine_out():
    flags = training_flags({"lr": 0.01, "epochs": 15, "batch_size": 64, "device": "cpu", "threads": 2,
                            "mixed_precision": True, "schedule": "step"})
    assert flags == ["--lr", "0.01", "--batch-size", "64", "--schedule", "step", "--mixed-precision"]
    with pytest.raises(UserError, match="[Ll]earning rate"):
        training_flags({"lr": -1})


def test_data_flags_name_coco_folders_and_generated_image_counts():
    assert data_flags({"source": "coco", "path": "/data/coco", "max_samples": 50}) == [
        "--data", "/data/coco", "--samples", "50"]
    assert data_flags({"source": "scenes", "num_samples": 300}) == ["--data", "scenes", "--samples", "300"]


@pytest.mark.parametrize("kind", ["torchrun", "slurm"])
@pytest.mark.parametrize("nodes,gpus", [(1, 1), (1, 4), (3, 8)])
def test_training_scripts_are_valid_bash(kind, nodes, gpus, tmp_path):
    args = train_arguments("nets/my net.json", ODD, "runs/out dir", {"lr": 0.02})
    settings = ClusterSettings(kind=kind, nodes=nodes, gpus_per_node=gpus, partition="gpu",
                               setup="module load cuda\nsource ~/venv/bin/activate", python="~/my env/bin/python")
    text = train_script(args, settings)
    _bash_n(text, tmp_path)
    assert text.startswith("#!/usr/bin/env bash\n")
    if kind == "slurm":
        assert f"#SBATCH --nodes={nodes}" in text and f"#SBATCH --gpus-per-node={gpus}" in text
        assert "#SBATCH --partition=gpu" in text
        assert text.index("#SBATCH") < text.index("set -euo")  # sbatch reads only the leading block


def test_single_machine_torchrun_script_runs_the_training_command(tmp_path):
    fake = _recorder(tmp_path, "python")
    args = train_arguments("nets/my net.json", ODD, "runs/out dir", {"lr": 0.02, "epochs": 3})
    script = tmp_path / "train.sh"
    script.write_text(train_script(args, ClusterSettings(gpus_per_node=2)))
    env = {**os.environ, "PYTHON": str(fake)}
    subprocess.run(["bash", str(script)], cwd=tmp_path, env=env, check=True)
    (call,) = _calls(tmp_path)
    assert call[:7] == ["-m", "torch.distributed.run", "--standalone", "--nnodes", "1", "--nproc_per_node", "2"]
    assert call[7:] == ["-m", "cnnstudio", "train", "nets/my net.json", "--data", ODD["path"], "--val-fraction",
                        "0.25", "--data-seed", "4", "--out", "runs/out dir", "--lr", "0.02", "--epochs", "3"]


def test_a_script_finding_a_checkpoint_resumes_the_run(tmp_path):
    fake = _recorder(tmp_path, "python")
    (tmp_path / "runs" / "r" / "checkpoints").mkdir(parents=True)
    (tmp_path / "runs" / "r" / "checkpoints" / "last.pt").write_bytes(b"")
    script = tmp_path / "train.sh"
    script.write_text(train_script(train_arguments("lenet5", {"source": "digits"}, "runs/r"),
                                   ClusterSettings(nodes=2, gpus_per_node=4)))
    env = {**os.environ, "PYTHON": str(fake), "MASTER_ADDR": "node7"}
    subprocess.run(["bash", str(script)], cwd=tmp_path, env=env, check=True)
    (call,) = _calls(tmp_path)
    assert "--rdzv_endpoint" in call and call[call.index("--rdzv_endpoint") + 1] == "node7:29500"
    assert call[call.index("--nnodes") + 1] == "2" and call[-4:] == ["cnnstudio", "train", "--resume", "runs/r"]


def test_slurm_script_starts_torchrun_on_each_node_through_srun(tmp_path):
    _recorder(tmp_path, "srun", 'exec "$@"\n')
    _recorder(tmp_path, "scontrol", 'echo gpu-node-01; echo gpu-node-02\n')
    fake = _recorder(tmp_path, "python")
    script = tmp_path / "job.sh"
    script.write_text(train_script(train_arguments("lenet5", {"source": "digits"}, "runs/r"),
                                   ClusterSettings(kind="slurm", nodes=2, gpus_per_node=4)))
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "PYTHON": str(fake),
           "SLURM_JOB_NODELIST": "gpu-node-[01-02]", "SLURM_JOB_NUM_NODES": "2", "SLURM_JOB_ID": "42"}
    subprocess.run(["bash", str(script)], cwd=tmp_path, env=env, check=True)
    calls = _calls(tmp_path)
    srun = next(c for c in calls if c[1:3] == ["-m", "torch.distributed.run"])
    assert srun[srun.index("--rdzv_endpoint") + 1] == "gpu-node-01:29500"
    assert srun[srun.index("--rdzv_id") + 1] == "42" and srun[srun.index("--nproc_per_node") + 1] == "4"
    assert srun[-6:] == ["train", "lenet5", "--data", "digits", "--out", "runs/r"]


@pytest.mark.parametrize("kind", ["shell", "slurm"])
def test_search_workers_share_the_study_with_their_own_seeds(kind, tmp_path):
    storage = "postgresql://me:pa$s}w\"d@db.example:5432/studies"
    args = ["hpo", "lenet5", "--data", "digits", "--trials", "40"]
    text = search_script(args, ClusterSettings(kind=kind, nodes=2, gpus_per_node=2), storage, "s 1", "runs/hpo", 5)
    _bash_n(text, tmp_path)
    assert "password" in text  # the warning that the file holds one
    fake = _recorder(tmp_path, "python")
    _recorder(tmp_path, "srun", 'for ((t = 0; t < 2; t++)); do SLURM_PROCID=$t "$@"; done\n')
    script = tmp_path / "workers.sh"
    script.write_text(text)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "PYTHON": str(fake), "NODE_RANK": "1"}
    subprocess.run(["bash", str(script)], cwd=tmp_path, env=env, check=True)
    calls = [c for c in _calls(tmp_path) if c[0] == "-m"]  # the workers (not the srun stand-in)
    assert len(calls) == 2
    for call in calls:
        assert call[:3] == ["-m", "cnnstudio", "hpo"]
        assert call[call.index("--storage") + 1] == storage and call[call.index("--study") + 1] == "s 1"
    seeds = sorted(int(c[c.index("--seed") + 1]) for c in calls)
    assert seeds == ([7, 8] if kind == "shell" else [5, 6])  # machine 1 of the shell script: workers 2 and 3


def test_search_storage_must_be_shareable():
    settings = ClusterSettings(kind="slurm", nodes=2, gpus_per_node=1)
    with pytest.raises(UserError, match="database server"):
        search_script(["hpo", "lenet5"], settings, "sqlite:///study.db", "s", "runs/h")
    with pytest.raises(UserError, match="SQLite"):
        search_script(["hpo", "lenet5"], ClusterSettings(kind="shell", gpus_per_node=2), "sqlite:///a.db", "s", "r")
    text = search_script(["hpo", "lenet5"], ClusterSettings(kind="shell", gpus_per_node=2), None, "s", "runs/h")
    assert "journal:runs/h/study.journal" in text


@pytest.mark.parametrize("bad,match", [({"nodes": 0}, "nodes"), ({"time_limit": "soon"}, "time limit"),
                                       ({"job_name": "a b"}, "job name"), ({"kind": "pbs"}, "kind")])
def test_bad_settings_are_one_sentence(bad, match):
    settings = ClusterSettings(**{"kind": "slurm", **bad})
    with pytest.raises(UserError, match=match):
        train_script(train_arguments("lenet5", {"source": "digits"}, "runs/r"), settings)


def test_saved_script_is_executable_and_private_when_it_holds_a_password(tmp_path):
    plain = tmp_path / "a.sh"
    save_script(plain, "#!/usr/bin/env bash\necho hi\n")
    assert os.access(plain, os.X_OK)
    secret = tmp_path / "b.sh"
    save_script(secret, "#!/usr/bin/env bash\nS=postgresql://u:pw@h/d\n")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o700
    with pytest.raises(UserError, match="folder"):
        save_script(tmp_path, "x")


def test_search_workers_of_several_gpus_run_under_torchrun(tmp_path):
    fake = _recorder(tmp_path, "python", 'echo "$CUDA_VISIBLE_DEVICES" >> "$(dirname "$0")/../gpus.txt"\n')
    settings = ClusterSettings(kind="shell", gpus_per_node=4, gpus_per_worker=2)
    script = tmp_path / "workers.sh"
    script.write_text(search_script(["hpo", "lenet5"], settings, "postgresql://db/s", "s", "runs/h"))
    subprocess.run(["bash", str(script)], cwd=tmp_path, env={**os.environ, "PYTHON": str(fake)}, check=True)
    calls = _calls(tmp_path)
    assert len(calls) == 2 and settings.workers == 2
    for call in calls:
        assert call[:5] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
        assert call[5:8] == ["-m", "cnnstudio", "hpo"]
    assert sorted((tmp_path / "gpus.txt").read_text().split()) == ["0,1", "2,3"]
    with pytest.raises(UserError, match="divide"):
        search_script(["hpo", "lenet5"], ClusterSettings(kind="slurm", gpus_per_node=4, gpus_per_worker=3),
                      "postgresql://db/s", "s", "runs/h")
    text = search_script(["hpo", "lenet5"], ClusterSettings(kind="slurm", nodes=2, gpus_per_node=8, gpus_per_worker=4),
                         "postgresql://db/s", "s", "runs/h")
    assert "#SBATCH --ntasks-per-node=2" in text and "#SBATCH --gpus-per-task=4" in text
    _bash_n(text, tmp_path)
