"""Settings read `.env` before any other variable, so RELASI_VAR_DIR (like every setting) may come from it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLEARED = ("RELASI_VAR_DIR", "DATABASE_URL", "MEDIA_ROOT", "EMAIL_URL")


def _settings_in(base: Path, cwd: Path = ROOT, **environment: str) -> dict[str, str]:
    # config/settings.py copied under base: its BASE_DIR, and so the .env it reads, are base's.
    (base / "config").mkdir()
    shutil.copy(ROOT / "config" / "settings.py", base / "config" / "settings.py")
    code = (
        "import json, runpy, sys; s = runpy.run_path(sys.argv[1]); "
        "print(json.dumps({'VAR_DIR': str(s['VAR_DIR']), 'DB': str(s['DATABASES']['default']['NAME'])}))"
    )
    env = {key: value for key, value in os.environ.items() if key not in CLEARED}
    result = subprocess.run(
        [sys.executable, "-c", code, str(base / "config" / "settings.py")],
        env={**env, **environment},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_relasi_var_dir_comes_from_the_env_file(tmp_path: Path) -> None:
    var_dir = tmp_path / "from-env-file"
    (tmp_path / ".env").write_text(f"RELASI_VAR_DIR={var_dir}\n")

    found = _settings_in(tmp_path)

    assert found == {"VAR_DIR": str(var_dir), "DB": str(var_dir / "relasi.sqlite3")}
    assert (var_dir / "secret_key").exists()
    assert not (tmp_path / "var").exists()


def test_the_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"RELASI_VAR_DIR={tmp_path / 'from-env-file'}\n")

    found = _settings_in(tmp_path, RELASI_VAR_DIR=str(tmp_path / "from-environment"))

    assert found["VAR_DIR"] == str(tmp_path / "from-environment")
    assert not (tmp_path / "from-env-file").exists()


def test_an_installed_relasi_reads_the_env_file_of_the_folder_it_starts_in(tmp_path: Path) -> None:
    # given the code in one place (as in site-packages) and the operator's folder with its .env elsewhere
    code_folder, work_folder = tmp_path / "site-packages", tmp_path / "srv"
    code_folder.mkdir()
    work_folder.mkdir()
    (work_folder / ".env").write_text("RELASI_VAR_DIR=state\n")
    # when the settings load from the operator's folder, then its .env is read (a relative path is the folder's)
    found = _settings_in(code_folder, cwd=work_folder)
    assert found["VAR_DIR"] == str(work_folder / "state")
