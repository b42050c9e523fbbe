"""Copies the top-level resources/, models/ and docs/ folders into the built package.

A source checkout finds them beside the package; a wheel or a frozen bundle finds them inside it
(see cnnstudio.core.paths).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in ("resources", "models", "docs"):  # docs: Help → User Guide reads them
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, Path(self.build_lib) / "cnnstudio" / name, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithData})
