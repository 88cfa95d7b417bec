"""tcup-pytest: test OpenStack clouds with pytest (RefStack interop runs and whitebox checks)."""

__version__ = "0.1.0"
