"""Repository layout for pytest.

``tests/`` are the framework's own tests (``pytest`` with no arguments runs them, see
``testpaths``). ``tests_api/`` and ``tests_whitebox/`` are product tests that users run against
their cloud; they get their fixtures from the installed ``tcup`` plugin, not from here.
"""

pytest_plugins = ["pytester"]
