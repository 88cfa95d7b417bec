"""ResourceCleanup deletes in reverse order, once, and names what it could not delete."""

import pytest
from openstack.exceptions import NotFoundException

from tcup_pytest.cloud import ResourceCleanup


def test_deleters_run_in_reverse_order_exactly_once():
    calls = []
    cleanup = ResourceCleanup()
    cleanup.add("a", calls.append, "a")
    cleanup.add("b", calls.append, "b")
    assert cleanup.pending == ["a", "b"]
    assert cleanup.run() == []
    cleanup.run()
    assert calls == ["b", "a"]


def test_failing_deleter_becomes_a_named_leftover_and_others_still_run():
    calls = []

    def broken():
        raise RuntimeError("server said 500")

    with ResourceCleanup() as cleanup:
        cleanup.add("first", calls.append, 1)
        cleanup.add("image tcup-x", broken)
        cleanup.add("last", calls.append, 3)
    assert calls == [3, 1]
    assert [(lo.name, lo.error) for lo in cleanup.leftovers] == [
        ("image tcup-x", "RuntimeError: server said 500")]


def test_already_deleted_counts_as_deleted():
    def gone():
        raise NotFoundException("404")

    cleanup = ResourceCleanup()
    cleanup.add("project p", gone)
    assert cleanup.run() == []


def test_ctrl_c_during_cleanup_is_deferred_until_cleanup_finished():
    import os
    import signal

    calls = []
    cleanup = ResourceCleanup()
    cleanup.add("second", calls.append, "second")
    cleanup.add("first", lambda: (os.kill(os.getpid(), signal.SIGINT), calls.append("first")))
    with pytest.raises(KeyboardInterrupt):
        cleanup.run()
    assert calls == ["first", "second"]
