"""Sessions: ``tests`` (the framework's own tests), ``lint``, ``demo`` (the main job on the
local testbed), ``bench`` (side-by-side measurements), ``container`` (the TCUP container's
tests on a private Docker Engine; slow), ``casts`` (re-records the docs' terminal tours) and
``tcup`` (runs inside the TCUP container).

Every session installs what it needs itself; the testbed's services install into their own
cached virtualenvs on first use (see tcup_pytest/testbed/base.py).
"""

import os
import sys

import nox

#: `nox`: the whole suite, and the main job (the README's demo) as its last check
nox.options.sessions = ["lint", "docs", "tests", "container", "demo"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"
EXTRAS = ".[tempest,container,dev]"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The framework's own tests: unit, and integration against the real local testbed."""
    session.install("-e", EXTRAS)
    args = session.posargs or ["tests", f"--ignore={CONTAINER_TESTS}"]
    session.run("pytest", *args)


CONTAINER_TESTS = "tests/integration/container"


@nox.session(python=PYTHON)
def container(session: nox.Session) -> None:
    """The TCUP image and launcher on a private dockerd (image layers cached between runs)."""
    session.install("-e", EXTRAS)
    session.run("pytest", *(session.posargs or [CONTAINER_TESTS]))


@nox.session(python=False)
def tcup(session: nox.Session) -> None:
    """Inside the TCUP container (the image's entry point; container/tcup.py starts it):
    the guideline or test list through `tcup run`, results into /results, then upload."""
    from tcup_pytest.container import main

    code = main(session.posargs)
    if code:
        sys.exit(code)  # keep the run's exit code (session.error() would make it 1)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The main job: testbed (with a RefStack server) up, 2020.06 identity and image tests
    through `tcup run`, uploaded locally, verdict and artifacts shown, testbed down."""
    session.install("-e", EXTRAS)
    session.run("tcup", "demo", *session.posargs)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation; warnings are errors (mkdocs.yml: strict)."""
    session.install("-e", ".", "mkdocs>=1.6")
    session.run("mkdocs", "build", "--strict")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks print side-by-side figures and ratios; they assert nothing."""
    session.install("-e", EXTRAS)
    scripts = session.posargs or sorted(
        f"benchmarks/{name}" for name in os.listdir("benchmarks") if name.endswith(".py"))
    for script in scripts:
        session.run("python", script)


@nox.session(python=PYTHON)
def casts(session: nox.Session) -> None:
    """The docs' terminal tours: records `tcup demo` and the container launcher on a pty and
    renders docs/casts/*.cast to animated SVG (`-- demo` or `-- container` for one)."""
    session.install("-e", EXTRAS)
    session.run("python", "docs/casts/record.py", *session.posargs)
