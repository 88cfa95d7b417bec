"""Sessions: ``tests`` (the framework's own tests), ``lint``, ``demo`` (the main job on the
local testbed), ``bench`` (side-by-side measurements).

Every session installs what it needs itself; the testbed's services install into their own
cached virtualenvs on first use (see tcup_pytest/testbed/base.py).
"""

import os

import nox

nox.options.sessions = ["lint", "docs", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"
EXTRAS = ".[tempest,container,dev]"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The framework's own tests: unit, and integration against the real local testbed."""
    session.install("-e", EXTRAS)
    args = session.posargs or ["tests"]
    session.run("pytest", *args)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The main job: testbed up, tests through tcup, results and verdict shown, testbed down."""
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
