"""The docs' terminal tours (docs/casts): cast -> SVG rendering, the pty recorder and the
check that no testbed password ends up in a cast. No testbed, no Docker: fast."""

from __future__ import annotations

import importlib.util
import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

CASTS = Path(__file__).resolve().parents[3] / "docs" / "casts"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def casts() -> Iterator[tuple[ModuleType, ModuleType]]:
    """(render, record) loaded from docs/casts; record.py imports render by that name."""
    with pytest.MonkeyPatch.context() as patch:
        loaded = []
        for name in ("render", "record"):
            spec = importlib.util.spec_from_file_location(name, CASTS / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            patch.setitem(sys.modules, name, module)
            spec.loader.exec_module(module)
            loaded.append(module)
        yield tuple(loaded)


def cast_text(*events: tuple[float, str], width: int = 20, height: int = 3) -> str:
    header = {"version": 2, "width": width, "height": height, "idle_time_limit": 2}
    return "\n".join([json.dumps(header)] + [json.dumps([t, "o", d]) for t, d in events])


def screen_text(render: ModuleType, lines) -> list[str]:
    """Plain text of a screen snapshot, one string per line."""
    out = []
    for line in lines:
        row = [" "] * 80
        for col, text, _ in line:
            row[col:col + len(text)] = text
        out.append("".join(row).rstrip())
    return out


def test_a_cast_renders_to_valid_svg_with_its_text(casts):
    render, _ = casts
    svg = render.cast_to_svg(cast_text((0, "hello\r\n"), (0.5, "\x1b[32mgreen\x1b[0m <&>"),
                                       (1.0, "\r\x1b[Kbye")))
    root = ET.fromstring(svg)
    spans = {span.text: span.get("fill") for span in root.iter(f"{SVG}tspan")}
    assert spans["hello"] is None
    assert spans["green"] == render.PALETTE[2]
    assert " <&>" in spans and "bye" in spans
    frames = root.find(f".//{SVG}g[@id='frames']")
    assert len(frames) == 3                       # one per distinct screen
    assert "@keyframes play" in root.find(f"{SVG}style").text


def test_the_screen_emulates_what_our_commands_print(casts):
    render, _ = casts
    screen = render.Screen(10, 3)
    screen.feed("progress 1\r\x1b[Kdone\r\n")    # rewritten line
    screen.feed("0123456789ab\r\n")                # autowrap at the width
    screen.feed("\x1b[1;38;5;196mre")              # bold 256-colour red, split...
    screen.feed("d\x1b[0m\x1b]0;title\x07!")       # ...and an OSC title, not shown
    assert screen_text(render, screen.lines()) == ["0123456789", "ab", "red!"]
    (_, text, style), _ = screen.lines()[2]
    assert (text, style.fg, style.bold) == ("red", "#ff0000", True)


def test_an_escape_sequence_split_between_events_is_kept(casts):
    render, _ = casts
    screen = render.Screen(10, 2)
    screen.feed("a\x1b[3")
    screen.feed("1mb")
    assert screen.lines()[0][-1][1:] == ("b", render.Style(fg=render.PALETTE[1]))


def test_long_pauses_are_cut_to_the_idle_time_limit(casts):
    render, _ = casts
    cast = render.Cast.parse(cast_text((0, "a"), (100, "b"), (100.5, "c")))
    assert [at for at, _ in render.frames(cast)] == [0, 2, 2.5]


def test_the_recorder_runs_a_command_on_a_terminal_of_the_tour_size(casts, tmp_path):
    render, record = casts
    cast = tmp_path / "t.cast"
    code = record.record(cast, [sys.executable, "-c", "import os, sys; "
                                "print(tuple(os.get_terminal_size()), sys.stdout.isatty())"],
                         env=record.user_env(), cwd=tmp_path, title="t")
    assert code == 0
    header, *events = map(json.loads, cast.read_text().splitlines())
    assert (header["version"], header["width"], header["height"]) == (2, 100, 30)
    shown = "".join(data for _, _, data in events)
    assert f"$\x1b[0m {sys.executable} -c" in shown
    assert "(100, 30) True" in shown
    assert "(100, 30) True" in render.cast_to_svg(cast.read_text())


def test_a_cast_with_a_testbed_password_is_deleted(casts, tmp_path):
    _, record = casts
    (tmp_path / "clouds.yaml").write_text(
        "clouds:\n  tcup-admin:\n    auth:\n      username: admin\n      password: s3cr3t-A\n")
    (tmp_path / "state.json").write_text(json.dumps(
        {"components": {"glance": {"password": "s3cr3t-B", "url": "http://x"}}}))
    secrets = record.testbed_secrets(tmp_path)
    assert secrets == {"s3cr3t-A", "s3cr3t-B"}
    clean, leaky = tmp_path / "clean.cast", tmp_path / "leaky.cast"
    clean.write_text(cast_text((0, "admin at http://x\r\n")))
    leaky.write_text(cast_text((0, "pass: s3cr"), (0.1, "3t-B\r\n")))   # split over events
    record.check_clean(clean, secrets)
    with pytest.raises(SystemExit, match="password"):
        record.check_clean(leaky, secrets)
    assert clean.exists() and not leaky.exists()
    with pytest.raises(SystemExit, match="no testbed passwords"):
        record.check_clean(clean, set())
