"""What the project declares matches what its code imports, the lock matches the conda environment, and the
licence and citation files say what a user needs."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[_name(name)] = version
    return pins


def _imported_modules() -> set[str]:
    """Top-level modules imported anywhere in the library, the rule scripts and the workflow."""
    found = set()
    sources = [
        *(ROOT / "src").rglob("*.py"),
        *(ROOT / "scripts").glob("*.py"),
        *(ROOT / "workflow" / "scripts").glob("*.py"),
    ]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    for smk in [ROOT / "workflow" / "Snakefile", *(ROOT / "workflow" / "rules").glob("*.smk")]:
        found |= set(re.findall(r"^\s*(?:from|import) (\w+)", smk.read_text(), flags=re.M))
    own = {p.stem for p in (ROOT / "tests").glob("*.py")}  # the tests' own helpers (scripts/detector_closeup.py)
    return found - set(sys.stdlib_module_names) - {"synthfer", "__future__"} - own


def test_every_imported_package_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    declared |= set(_pins((ROOT / "detector-requirements.txt").read_text().splitlines()))
    providers = packages_distributions()
    opencv_builds = {
        "opencv-python",
        "opencv-python-headless",
        "opencv-contrib-python",
        "opencv-contrib-python-headless",
    }
    missing = {}
    for module in sorted(_imported_modules()):
        dists = opencv_builds if module == "cv2" else {_name(d) for d in providers.get(module, [module])}
        if not dists & declared:
            missing[module] = sorted(dists)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_the_lock_pins_every_dependency_and_the_conda_env_pins_the_same_versions():
    lock = _pins((ROOT / "constraints.txt").read_text().splitlines())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        assert _name(requirement) in lock, f"{requirement} has no pin in constraints.txt"
    env = yaml.safe_load((ROOT / "workflow" / "envs" / "synthfer.yaml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins(pip_section) == {k: v for k, v in lock.items() if k != "mediapipe"}


def test_the_face_detector_is_installed_without_what_it_never_imports():
    detector = _pins((ROOT / "detector-requirements.txt").read_text().splitlines())
    assert detector == {"mediapipe": "0.10.21"}
    lock = _pins((ROOT / "constraints.txt").read_text().splitlines())
    assert lock["mediapipe"] == detector["mediapipe"]
    for heavy in ("jax", "jaxlib", "opencv-contrib-python", "sentencepiece", "sounddevice"):
        assert heavy not in lock, heavy
    assert "--no-deps -r detector-requirements.txt" in (ROOT / "Makefile").read_text()
    post_deploy = (ROOT / "workflow" / "envs" / "synthfer.post-deploy.sh").read_text()
    assert f"--no-deps mediapipe=={detector['mediapipe']}" in post_deploy


def test_the_detector_runs_with_only_what_is_installed():
    """The packages left out are really not needed: the detector finds a real face without them."""
    from importlib.util import find_spec

    from skimage import data

    from synthfer.data.detect import FaceDetector

    for unused in ("jax", "jaxlib", "sentencepiece", "sounddevice"):  # `make install` leaves them out
        assert find_spec(unused) is None, f"{unused} is installed: make install should leave it out"
    found = FaceDetector(0.5).detect(data.astronaut())
    assert not isinstance(found, str), found


def test_licence_and_citation():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == {"text": "MIT"}
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "MIT"
    assert {"message", "title", "authors", "type"} <= set(citation)
    paper = citation["preferred-citation"]
    assert paper["doi"] == "10.5220/0011629000003417" and paper["year"] == 2023
    assert [a["family-names"] for a in paper["authors"]] == ["Gholipour Picha", "Al Chanti", "Caplier"]


LONG_SIGNATURE = 8
SAYS_WHY = re.compile(r"\(\w+[-\s]?\w*\s+(names|parameters):\s", re.IGNORECASE)


def test_no_function_takes_more_than_eight_parameters_without_saying_why():
    """Over eight parameters a call is hard to read and easy to get wrong: such a function says why in its
    docstring ("(Ten names: one per name of its rule.)" for a step the seam binds by keyword)."""
    unexplained = []
    for path in sorted((ROOT / "src" / "synthfer").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            names = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
            count = len([n for n in names if n not in ("self", "cls")])
            if count > LONG_SIGNATURE and not SAYS_WHY.search(ast.get_docstring(node) or ""):
                unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({count})")
    assert unexplained == []


def test_make_install_remakes_a_venv_left_without_pip_or_of_a_refused_python(tmp_path):
    """scripts/venv_check.py, which `make install` runs first: a venv killed half-way (no pip) or made by a Python
    the project refuses is named with the reason, and the Makefile makes it anew; a usable or missing one passes."""
    import subprocess
    import sys

    def check(venv):
        return subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "venv_check.py"), str(venv)], capture_output=True, text=True
        )

    assert check(tmp_path / "none").returncode == 0  # missing: make creates it
    ours = Path(sys.executable).parents[1]
    assert check(ours).returncode == 0 and check(ours).stdout == ""  # this very venv is fine

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "half")], check=True)
    run = check(tmp_path / "half")
    assert run.returncode == 1 and "has no pip (an interrupted install?)" in run.stdout

    other = tmp_path / "other" / "bin"
    other.mkdir(parents=True)
    (other / "python").write_text("#!/bin/sh\necho 2 7\n")
    (other / "python").chmod(0o755)
    run = check(tmp_path / "other")
    assert run.returncode == 1 and "is of Python 2.7; this project needs >=" in run.stdout

    makefile = (ROOT / "Makefile").read_text()
    assert "scripts/venv_check.py $(VENV)" in makefile and "making $(VENV) anew with $(PYTHON)" in makefile


def test_one_version_everywhere_a_user_reads_it():
    """pyproject.toml, CITATION.cff, `synthfer --version`, provenance.json and the CHANGELOG name one version."""
    import subprocess
    import sys

    from synthfer.provenance import synthfer_version

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert yaml.safe_load((ROOT / "CITATION.cff").read_text())["version"] == version
    assert synthfer_version() == version
    run = subprocess.run([sys.executable, "-m", "synthfer.cli", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == f"synthfer {version}"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## {version} (" in changelog  # the version installed has its section


def test_the_catalogs_usage_page_is_the_configuration_page():
    assert (ROOT / "config" / "README.md").read_text() == (ROOT / "docs" / "configuration.md").read_text()


def test_the_readme_is_a_users_page_whose_links_all_resolve():
    """At most 300 lines; every relative link of the README and of the docs pages names a file that exists."""
    readme = ROOT / "README.md"
    assert len(readme.read_text().splitlines()) <= 300
    for page in [readme, *(ROOT / "docs").glob("*.md"), ROOT / "config" / "README.md"]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to {target}, which is missing"
