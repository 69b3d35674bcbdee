"""Relasi keeps its state in RELASI_VAR_DIR, by default var/ of the folder it starts in (never its package's)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _var_dir(base: Path, cwd: Path, **environment: str) -> str:
    # config/settings.py copied under base, with no .env beside it, run from another folder.
    (base / "config").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "settings.py", base / "config" / "settings.py")
    cwd.mkdir(parents=True)
    code = "import json, runpy, sys; s = runpy.run_path(sys.argv[1]); print(json.dumps(str(s['VAR_DIR'])))"
    cleared = ("RELASI_VAR_DIR", "DATABASE_URL", "MEDIA_ROOT", "EMAIL_URL")
    env = {key: value for key, value in os.environ.items() if key not in cleared}
    result = subprocess.run(
        [sys.executable, "-c", code, str(base / "config" / "settings.py")],
        cwd=cwd,
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_var_dir_defaults_to_var_of_the_working_folder(tmp_path: Path) -> None:
    found = _var_dir(tmp_path / "site-packages", tmp_path / "work")

    assert found == str(tmp_path / "work" / "var")
    assert (tmp_path / "work" / "var" / "secret_key").exists()
    assert not (tmp_path / "site-packages" / "var").exists()


def test_a_relative_var_dir_is_taken_from_the_working_folder(tmp_path: Path) -> None:
    found = _var_dir(tmp_path / "site-packages", tmp_path / "work", RELASI_VAR_DIR="state")

    assert found == str(tmp_path / "work" / "state")
