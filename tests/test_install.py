"""A non-editable install into a fresh virtual environment builds and queries from elsewhere.

The wheel must carry the ontology, the canned queries and the bundled data.
Dependencies come from the running environment (added by a .pth line), so the
test needs no network.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(*args: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True, timeout=300,
                          **kw)  # type: ignore[call-overload]


def test_wheel_installs_into_fresh_venv_and_works_from_another_directory(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, REPO)
    (wheel,) = wheels.glob("ivig_kg-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    py = venv / "bin" / "python"
    site = run(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    # dependencies from this environment, without its (editable) ivig_kg
    (Path(site) / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(py, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "IVIG_KG_STORE": str(tmp_path / "kg"), "NO_COLOR": "1"}
    where = run(py, "-c", "import ivig_kg.resources as r; print(r.root())", cwd=elsewhere, env=env).stdout.strip()
    assert where.startswith(site), f"resources loaded from {where}, not the installed wheel"
    for sub in ("ontology/ivig-trial.ttl", "ontology/context.jsonld", "data/articles/ivig-ms-commentary.yaml"):
        assert (Path(where) / sub).is_file(), sub
    assert list((Path(where) / "queries").glob("*.rq"))

    exe = venv / "bin" / "ivig-kg"
    run(exe, "build", cwd=elsewhere, env=env)
    out = run(exe, "query", "run", "effect-estimates", "-f", "csv", cwd=elsewhere, env=env).stdout
    assert "0.36" in out and "1.11" in out
