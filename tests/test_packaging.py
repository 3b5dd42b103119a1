"""The distribution: version, typed marker, and a wheel holding the package only."""

from __future__ import annotations

import email.parser
import importlib.metadata
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import pytest
from packaging.requirements import Requirement

import keras_nin

ROOT = Path(__file__).resolve().parents[1]

backend_independent = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="backend-independent packaging check: runs once, in the TensorFlow run",
)


def test_version_matches_installed_metadata():
    assert keras_nin.__version__ == importlib.metadata.version("keras-nin")


def test_public_api():
    assert keras_nin.layers.__all__ == [
        "Block",
        "Bottleneck",
        "DropPath",
        "FireModule",
        "InceptionBlock",
        "InvertedResidual",
        "NiNBlock",
        "Pointwise",
        "SqueezeExcite",
    ]
    for name in keras_nin.layers.__all__[1:]:  # every layer but the base
        assert keras.saving.get_registered_object(f"keras_nin>{name}") is getattr(
            keras_nin.layers, name
        )
    assert keras_nin.models.__all__ == ["NiN"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The folder holding the sdist and wheel built from this checkout."""
    outdir = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return outdir


@backend_independent
def test_sdist_and_wheel_build_and_the_wheel_holds_only_the_package(built):
    (wheel,) = built.glob("keras_nin-*.whl")
    assert len(list(built.glob("keras_nin-*.tar.gz"))) == 1
    names = zipfile.ZipFile(wheel).namelist()
    top_levels = {name.split("/")[0] for name in names}
    assert top_levels == {"keras_nin", f"keras_nin-{keras_nin.__version__}.dist-info"}
    assert "keras_nin/py.typed" in names
    assert "keras_nin/layers/pointwise.py" in names


def wheel_requirements(built: Path) -> list[Requirement]:
    """The `Requires-Dist` lines of the built wheel's METADATA, parsed."""
    (wheel,) = built.glob("keras_nin-*.whl")
    metadata_name = f"keras_nin-{keras_nin.__version__}.dist-info/METADATA"
    metadata = email.parser.Parser().parsestr(
        zipfile.ZipFile(wheel).read(metadata_name).decode()
    )
    return [Requirement(line) for line in metadata.get_all("Requires-Dist")]


@backend_independent
def test_published_requirements_carry_lower_bounds_and_no_pin(built):
    """What `pip install "keras-nin[torch]"` promises: no `==`, so no downgrade."""
    requirements = wheel_requirements(built)
    for requirement in requirements:
        operators = {spec.operator for spec in requirement.specifier}
        assert not operators & {"==", "==="}, str(requirement)
    for backend in ("tensorflow", "jax", "torch"):
        # `keras-nin[torch]` brings this torch requirement (`all` repeats it).
        (requirement,) = [
            r
            for r in requirements
            if r.name == backend
            and r.marker is not None
            and r.marker.evaluate({"extra": backend})
        ]
        assert [spec.operator for spec in requirement.specifier] == [">="], str(
            requirement
        )
        # The bound admits a release newer than any the suite runs on, e.g. the
        # PyTorch 2.15 of issue 19 that the old pin downgraded.
        assert requirement.specifier.contains("2.15.0" if backend == "torch" else "99")


def test_the_makefile_installs_with_the_development_constraints():
    """The exact pins live in constraints/dev.txt, which every install uses."""
    constraints = (ROOT / "constraints" / "dev.txt").read_text()
    pins = {
        line.split("==")[0].lower(): line.split("==")[1]
        for line in constraints.splitlines()
        if "==" in line and not line.startswith("#")
    }
    for package in ("keras", "tensorflow", "jax", "jaxlib", "torch", "numpy"):
        assert package in pins, package
    makefile = (ROOT / "Makefile").read_text()
    assert "CONSTRAINTS := constraints/dev.txt" in makefile
    installs = [
        line
        for line in makefile.splitlines()
        if line.strip().startswith("$(PIP_INSTALL)")
    ]
    assert len(installs) == 2  # the docs set and the full set
    assert "PIP_INSTALL = $(BIN)/python -m pip install --quiet -c $(CONSTRAINTS)" in (
        makefile
    )
    assert "pip install --quiet -e" not in makefile  # no install without -c
