"""Relasi's build: pyproject.toml says everything except one step, which is here.

A wheel must carry every static file, and five of Relasi's front-end libraries (Bootstrap, Bootstrap Icons,
htmx, Chart.js, SortableJS) are third-party code that is never committed: `npm ci` installs them into
node_modules, exactly as package-lock.json says. `build_vendor_assets`, one more step of setuptools' `build`,
copies them into the build folder as relasi/web/static/vendor/..., the static paths a checkout serves them at
from node_modules (relasi/web/vendor_assets.py lists them for both). So run `npm ci` before building:

    npm ci && uv build --wheel        (or `make wheel`; `pip install .` and `uv sync --no-editable` build too)

An editable install (`make setup`) copies nothing: a checkout serves node_modules itself. Building from an
sdist is not supported (it has no node_modules); the step stops with the reason rather than make a wheel
without its assets.
"""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

from setuptools import Command, setup
from setuptools.command.build import build
from setuptools.errors import SetupError

ROOT = Path(__file__).resolve().parent
NODE_MODULES = ROOT / "node_modules"
VENDOR_ASSETS: dict[str, str] = runpy.run_path(str(ROOT / "relasi" / "web" / "vendor_assets.py"))[
    "VENDOR_ASSETS"
]
STATIC = Path("relasi") / "web" / "static"


class build_vendor_assets(Command):
    """Copy the front-end libraries from node_modules into the build folder's relasi/web/static/vendor/."""

    description = "copy the front-end libraries from node_modules into the package"
    user_options: list[tuple[str, str | None, str]] = []

    def initialize_options(self) -> None:
        self.build_lib: str | None = None
        self.editable_mode = False

    def finalize_options(self) -> None:
        self.set_undefined_options("build_py", ("build_lib", "build_lib"))

    def _mapping(self) -> dict[str, str]:
        """Each file to be built (under build_lib) → its source under node_modules."""
        if self.editable_mode:
            return {}
        missing = [folder for folder in VENDOR_ASSETS.values() if not (NODE_MODULES / folder).is_dir()]
        if missing:
            raise SetupError(
                f"node_modules lacks {', '.join(missing)}: run `npm ci` in the Relasi checkout before building "
                "the wheel (the front-end libraries are copied from there into the package)."
            )
        assert self.build_lib is not None
        mapping = {}
        for prefix, folder in VENDOR_ASSETS.items():
            source = NODE_MODULES / folder
            for path in sorted(source.rglob("*")):
                if path.is_file():
                    target = Path(self.build_lib) / STATIC / prefix / path.relative_to(source)
                    mapping[str(target)] = str(path)
        return mapping

    def run(self) -> None:
        if self.editable_mode:
            return
        for target, source in self._mapping().items():
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)

    def get_outputs(self) -> list[str]:
        return list(self._mapping())

    def get_output_mapping(self) -> dict[str, str]:
        return self._mapping()

    def get_source_files(self) -> list[str]:
        return []


class build_with_vendor_assets(build):
    sub_commands = [*build.sub_commands, ("build_vendor_assets", None)]

    def run(self) -> None:
        # From an empty build folder each time: setuptools would otherwise carry into the wheel what an earlier
        # build left there (a template deleted since, an older library). An editable install never runs this.
        shutil.rmtree(self.build_lib, ignore_errors=True)
        super().run()


setup(cmdclass={"build": build_with_vendor_assets, "build_vendor_assets": build_vendor_assets})
