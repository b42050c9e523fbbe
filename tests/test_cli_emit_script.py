"""``cnnstudio train --emit-script`` and ``cnnstudio hpo --emit-script``: launch scripts, not training."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from cnnstudio.cli import main


def _bash_n(path) -> None:
    if shutil.which("bash"):
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0


def test_train_emits_a_slurm_script_with_the_flags_given(tmp_path, capsys):
    script = tmp_path / "job.sh"
    code = main(["train", "lenet5", "--data", "digits", "--epochs", "3", "--lr", "0.01", "--device", "cpu",
                 "--out", "runs/l5", "--emit-script", "slurm", "--nodes", "2", "--gpus-per-node", "4",
                 "--partition", "gpu", "--script-file", str(script)])
    assert code == 0 and os.access(script, os.X_OK)
    text = script.read_text()
    assert "#SBATCH --nodes=2" in text and "#SBATCH --gpus-per-node=4" in text
    assert "ARGS=(train lenet5 --data digits --out runs/l5 --lr 0.01 --epochs 3)" in text  # no --device
    assert not (tmp_path / "runs").exists()  # nothing trained
    _bash_n(script)
    assert "Wrote" in capsys.readouterr().err


def test_train_prints_a_torchrun_script_and_needs_a_run_folder(capsys):
    assert main(["train", "lenet5", "--out", "runs/x", "--emit-script", "torchrun", "--gpus-per-node", "8"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("#!/usr/bin/env bash") and 'NPROC_PER_NODE="${NPROC_PER_NODE:-8}"' in out
    assert main(["train", "lenet5", "--emit-script", "torchrun"]) == 2
    assert "--out RUN_DIR" in capsys.readouterr().err
    assert main(["train", "lenet55", "--out", "r", "--emit-script", "torchrun"]) == 2  # a template typo


@pytest.mark.parametrize("storage,code", [("postgresql://u:p@db/s", 0), ("sqlite:///s.db", 2)])
def test_hpo_emits_workers_sharing_one_study(tmp_path, capsys, storage, code):
    script = tmp_path / "w.sh"
    result = main(["hpo", "lenet5", "--trials", "30", "--storage", storage, "--study", "big",
                   "--emit-script", "slurm", "--nodes", "3", "--gpus-per-node", "2", "--script-file", str(script)])
    assert result == code
    if code == 0:
        text = script.read_text()
        assert "#SBATCH --ntasks-per-node=2" in text and "--study big" in text and "--trials 30" in text
        _bash_n(script)
    else:
        assert "database server" in capsys.readouterr().err
