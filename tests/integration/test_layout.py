"""The source layout: `platform/` maps to `cookout.platform` without shadowing the standard library's
`platform` module, which `uuid` and others import, when Python runs from the repository root."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_from_repo_root(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *arguments], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_platform_folder_is_not_a_regular_package() -> None:
    assert (REPO_ROOT / "platform").is_dir()
    assert not (REPO_ROOT / "platform" / "__init__.py").exists()


def test_standard_library_platform_still_imports_from_the_repo_root() -> None:
    result = run_from_repo_root("-c", "import platform, uuid; platform.system(); uuid.uuid4()")
    assert result.returncode == 0, result.stderr


def test_unit_tests_are_collected_from_the_repo_root() -> None:
    # `-n 0`, not `-p no:xdist`: the `-n 2` in pyproject's addopts needs the plugin loaded.
    result = run_from_repo_root("-m", "pytest", "--co", "-q", "-n", "0", "-p", "no:cacheprovider", "tests/unit")
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_help_runs_from_the_repo_root_and_lists_serve() -> None:
    result = run_from_repo_root("-m", "cookout.platform.cli", "--help")
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout


def test_the_workers_load_no_web_framework() -> None:
    # A mail worker needs the core and the letters, not Litestar's two hundred modules.
    result = run_from_repo_root("-c", "import sys, cookout.workers.app, cookout.workers.mail, cookout.workers.reminders; "
                                      "print(sorted(m for m in sys.modules if m.split('.')[0] == 'litestar'"
                                      " or m.startswith('cookout.platform.web.base')))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_import_contracts_in_pyproject_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_module_of_the_platform_core_is_held_to_its_contract() -> None:
    contracts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    [core] = [c for c in contracts if "cookout.platform.cli" in c.get("forbidden_modules", ())]
    on_disk = {f"cookout.platform.{path.stem}" for path in (REPO_ROOT / "platform").iterdir()
               if (path.suffix == ".py" or (path / "__init__.py").exists())
               and path.stem not in ("cli", "web")}
    assert on_disk == set(core["source_modules"])
