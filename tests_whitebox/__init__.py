"""Whitebox tests of tcup-pytest: boot guests through the API, then check on the compute host
(libvirt XML), in Nova's database and in placement that pinning, NUMA, pages and emulator
threads are what the flavor asked for, also after moves. Run against your cloud with
``pytest -m whitebox --pyargs tests_whitebox --whitebox-inventory inventory.yaml``.
"""
