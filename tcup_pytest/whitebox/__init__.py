"""Whitebox testing: look inside the cloud the API drives.

Plain classes a script can use without pytest: :class:`~.hosts.Host` (commands over a reused
SSH connection or a container exec), :class:`~.libvirt.DomainXML` and
:class:`~.libvirt.Capabilities`, :class:`~.database.Database` (Nova / placement DBs),
:class:`~.inventory.Inventory`, and :func:`~.services.config_change`. The pytest fixtures in
``tcup_pytest.plugins.whitebox`` are a thin layer over them.
"""
