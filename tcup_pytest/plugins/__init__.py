"""pytest-facing layers: options, fixtures and hooks over the plain classes of the package."""
