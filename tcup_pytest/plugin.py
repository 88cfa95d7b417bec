"""The pytest11 entry point: it only wires the plugin modules; each adds its own options,
ini keys, markers, fixtures and hooks (the way pytest's own modules do)."""

pytest_plugins = [
    "tcup_pytest.plugins.redaction",
    "tcup_pytest.plugins.ids",
    "tcup_pytest.plugins.cloud",
    "tcup_pytest.plugins.progress",
    "tcup_pytest.plugins.whitebox",
    "tcup_pytest.plugins.tempest",
    "tcup_pytest.plugins.refstack",
]
