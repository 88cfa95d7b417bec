"""cpuset syntax shared by libvirt and Nova."""

from __future__ import annotations

import pytest

from tcup_pytest.errors import ExitCode
from tcup_pytest.whitebox.cpuset import CPUSetError, format_cpuset, parse_cpuset


@pytest.mark.idempotent_id("3f9a1c2e-1b4d-4e6f-8a9b-0c1d2e3f4001")
@pytest.mark.parametrize(("spec", "cpus"), [
    ("0-3,^2,8", {0, 1, 3, 8}),
    ("2-7,10-15", {2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15}),
    (" 1 , 4 ", {1, 4}),
    ("", set()),
    (None, set()),
    (5, {5}),
    ("0-7,^0-1", None),  # ranges in exclusions are not Nova syntax
])
def test_parse(spec, cpus) -> None:
    if cpus is None:
        with pytest.raises(CPUSetError):
            parse_cpuset(spec)
    else:
        assert parse_cpuset(spec) == cpus


@pytest.mark.idempotent_id("3f9a1c2e-1b4d-4e6f-8a9b-0c1d2e3f4002")
@pytest.mark.parametrize("spec", ["a", "3-1", "1--2", "^", "-1"])
def test_bad_specs_are_input_errors(spec: str) -> None:
    with pytest.raises(CPUSetError) as info:
        parse_cpuset(spec)
    assert info.value.exit_code == ExitCode.INPUT_FILE
    assert repr(spec) in str(info.value)


@pytest.mark.idempotent_id("3f9a1c2e-1b4d-4e6f-8a9b-0c1d2e3f4003")
def test_format_round_trips() -> None:
    assert format_cpuset({0, 1, 3, 8, 9, 10}) == "0-1,3,8-10"
    assert format_cpuset([]) == ""
    for spec in ("0-3,^2,8", "2-7,10-15", "4"):
        assert parse_cpuset(format_cpuset(parse_cpuset(spec))) == parse_cpuset(spec)
