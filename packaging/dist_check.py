"""Check a built bundle the way a user's machine would run it: no Python on PATH, no venv, fresh home.

    python packaging/dist_check.py [BUNDLE_DIR]     # default dist/cnnstudio (make dist-check builds it first)

1. ``--smoke-test DIR`` offscreen: a screenshot of every workspace, each non-blank; start-up time.
2. ``train lenet5 --data digits --epochs 1``: a run folder with model.onnx, from the bundle.
3. ``live --source VIDEO --headless --max-frames N``: the bundled model on a small video file.
4. Start-up time to the first painted window (``--quit-after-paint``), twice (cold and warm file cache).
5. Linux: no display, or an X display that is not there, gives one clear line and exit 2.
Exit status 0 when all pass; one line per check either way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build  # noqa: E402 - packaging/build.py, beside this file

WORKSPACES = ("playground", "designer", "data", "train", "inspect", "live")
VIDEO_FRAMES = 12


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a user's session without Python: PATH without any folder holding a python,
    no PYTHONPATH/PYTHONHOME/VIRTUAL_ENV, and a fresh home so no settings or data leak in."""
    keep = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if folder and not any((Path(folder) / name).exists() for name in ("python", "python3", "python.exe")):
            keep.append(folder)
    env = {"PATH": os.pathsep.join(keep) or os.defpath, "HOME": str(home), "LANG": "C.UTF-8",
           "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_DATA_HOME": str(home / ".local" / "share"), "XDG_CACHE_HOME": str(home / ".cache"),
           "CNNSTUDIO_HOME": str(home / "cnnstudio")}
    for name in ("SYSTEMROOT", "TEMP", "TMP", "USERPROFILE", "APPDATA", "LOCALAPPDATA"):  # Windows needs these
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _run(exe: Path, args: list[str], env: dict, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False)


def _is_blank(png: Path) -> bool:
    from PIL import Image

    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    return colours is not None and len(colours) <= 3


def write_video(path: Path, frames: int = VIDEO_FRAMES) -> Path:
    """A tiny video of a drawn digit moving across the frame (OpenCV's MJPG writer, which it always has)."""
    import cv2
    import numpy as np

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    for i in range(frames):
        frame = np.full((120, 160, 3), 255, np.uint8)
        cv2.putText(frame, "7", (50 + i, 95), cv2.FONT_HERSHEY_SIMPLEX, 3, (0, 0, 0), 8)
        writer.write(frame)
    writer.release()
    return path


def check_smoke(exe: Path, env: dict, work: Path) -> tuple[bool, str]:
    out = work / "smoke"
    t0 = time.perf_counter()
    proc = _run(exe, ["--smoke-test", str(out)], env, work)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        return False, f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-800:]}"
    missing = [n for n in WORKSPACES if not (out / f"{n}.png").is_file()]
    shots = sorted(out.glob("*.png"))  # NAME.png, and the themed/sized views where the smoke test makes them
    blank = [p.name for p in shots if _is_blank(p)]
    if missing or blank:
        return False, f"missing screenshots {missing}, blank {blank}"
    painted = next((line for line in proc.stdout.splitlines() if "painted" in line), "")
    return True, f"{len(shots)} screenshots ({len(WORKSPACES)} workspaces) in {out}, none blank; " \
                 f"{painted.removeprefix('smoke-test: ')}; whole smoke test {elapsed:.1f} s"


def check_train(exe: Path, env: dict, work: Path) -> tuple[bool, str]:
    run_dir = work / "run"
    proc = _run(exe, ["train", "lenet5", "--data", "digits", "--epochs", "1", "--device", "cpu", "--json",
                      "--out", str(run_dir)], env, work)
    if proc.returncode != 0:
        return False, f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-800:]}"
    if not (run_dir / "model.onnx").is_file():
        return False, f"no model.onnx in {run_dir}"
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        result = {}
    accuracy = next((v for k, v in _flatten(result) if k.endswith("val_accuracy")), None)
    return True, f"one epoch of the digits -> {run_dir}/model.onnx" + (
        f", validation accuracy {accuracy:.3f}" if isinstance(accuracy, float) else "")


def _flatten(value, prefix=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), value


def check_live(exe: Path, env: dict, work: Path) -> tuple[bool, str]:
    video = write_video(work / "digit.avi")
    proc = _run(exe, ["live", "--source", str(video), "--headless", "--max-frames", str(VIDEO_FRAMES - 2),
                      "--quiet"], env, work)
    if proc.returncode != 0:
        return False, f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-800:]}"
    try:
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return False, f"no summary line: {proc.stdout[-400:]!r}"
    frames = summary.get("frames")
    if frames != VIDEO_FRAMES - 2:
        return False, f"expected {VIDEO_FRAMES - 2} frames, the summary says {summary}"
    return True, f"bundled model on {video.name}: {frames} frames, {summary.get('fps', 0):.0f} fps"


def check_startup(exe: Path, env: dict, work: Path) -> tuple[bool, str]:
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        proc = _run(exe, ["--quit-after-paint"], env, work, timeout=120)
        wall = time.perf_counter() - t0
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("first-paint")), None)
        if proc.returncode != 0 or line is None:
            return False, f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-400:]}"
        times.append((float(line.split()[1]), wall))
    text = ", ".join(f"first paint {p:.2f} s (process {w:.2f} s)" for p, w in times)
    return True, f"start-up cold/warm: {text}"


def check_no_display(exe: Path, env: dict, work: Path) -> tuple[bool, str]:
    """Linux: without a display (and QT_QPA_PLATFORM unset) one clear line and exit 2, not Qt's abort."""
    if not sys.platform.startswith("linux"):
        return True, "not Linux: nothing to check"
    bare = {k: v for k, v in env.items() if k != "QT_QPA_PLATFORM"}
    proc = _run(exe, [], bare, work, timeout=60)
    lines = proc.stderr.strip().splitlines()
    if proc.returncode != 2 or len(lines) != 1 or "QT_QPA_PLATFORM=offscreen" not in lines[0]:
        return False, f"exit {proc.returncode}, stderr {proc.stderr.strip()[-600:]!r}"
    proc = _run(exe, [], {**bare, "DISPLAY": ":97"}, work, timeout=60)  # no X server there
    x_lines = proc.stderr.strip().splitlines()
    if proc.returncode != 2 or len(x_lines) != 1:
        return False, f"DISPLAY=:97: exit {proc.returncode}, stderr {proc.stderr.strip()[-600:]!r}"
    return True, f"{lines[0]} | DISPLAY=:97: {x_lines[0]}"


CHECKS = (("smoke", check_smoke), ("train", check_train), ("live", check_live), ("startup", check_startup),
          ("no-display", check_no_display))


def run_checks(bundle: Path = build.BUNDLE, work: Path | None = None) -> list[tuple[str, bool, str]]:
    exe = build.executable(bundle)
    if not exe.exists():
        return [("bundle", False, f"{exe} does not exist: build it with `make dist-check` or packaging/build.py")]
    owned = work is None
    work = Path(tempfile.mkdtemp(prefix="cnnstudio-dist-check-")) if work is None else work
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = clean_env(home)
    results = [("size", True, f"{bundle} weighs {build.folder_size(bundle) / 2**30:.2f} GiB"
                + _cuda_share(bundle))]
    try:
        for name, check in CHECKS:
            try:
                ok, text = check(exe, env, work)
            except (subprocess.TimeoutExpired, RuntimeError, OSError) as exc:
                ok, text = False, str(exc)
            results.append((name, ok, text))
    finally:
        if owned and all(ok for _n, ok, _t in results):
            shutil.rmtree(work, ignore_errors=True)
    return results


def _cuda_share(bundle: Path) -> str:
    nvidia = next(bundle.glob("_internal/nvidia"), None)
    if nvidia is None:
        return " (no NVIDIA CUDA libraries inside)"
    return f", of which the NVIDIA CUDA libraries {build.folder_size(nvidia) / 2**30:.2f} GiB"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    bundle = Path(argv[0]) if argv else build.BUNDLE
    work = build.DIST / "dist-check"  # kept for a look at the screenshots; replaced on each run
    shutil.rmtree(work, ignore_errors=True)
    results = run_checks(bundle, work)
    print(f"dist-check: screenshots and the trained run are in {work}", flush=True)
    for name, ok, text in results:
        print(f"dist-check: {'ok  ' if ok else 'FAIL'} {name}: {text}", flush=True)
    return 0 if all(ok for _n, ok, _t in results) else 1


if __name__ == "__main__":
    sys.exit(main())
