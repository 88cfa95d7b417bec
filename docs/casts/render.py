"""Render an asciinema v2 cast as an animated SVG, with the standard library only.

A small terminal emulator (what tcup, pytest and the container launcher print: text, colours,
carriage returns, erase-line, cursor moves) takes a snapshot of the screen per frame; the SVG
draws every distinct line once and steps through the frames with one CSS animation::

    >>> svg = cast_to_svg(Path("docs/casts/demo.cast").read_text())   # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

#: colours 0-15 (a dark theme close to asciinema's)
PALETTE = ["#000000", "#dd3c69", "#4ebf22", "#ddaf3c", "#26b0d7", "#b954e1", "#54e1b9",
           "#d9d9d9", "#4d4d4d", "#dd3c69", "#4ebf22", "#ddaf3c", "#26b0d7", "#b954e1",
           "#54e1b9", "#ffffff"]
FOREGROUND, BACKGROUND = "#cccccc", "#121314"
FONT_SIZE, CHAR_WIDTH, LINE_HEIGHT, BASELINE, PADDING = 14, 8.4, 17, 13, 10
FRAME_GAP = 0.05   # output closer together than this (seconds) shows as one frame
END_HOLD = 4.0     # the last frame stays this long before the tour starts again
CSI = re.compile(r"\[([0-?]*)[ -/]*([@-~])")


@dataclass(frozen=True)
class Style:
    fg: str | None = None
    bg: str | None = None
    bold: bool = False


PLAIN = Style()
Run = tuple[int, str, Style]          # column, text, style
Line = tuple[Run, ...]


class Screen:
    """A fixed-size terminal screen; ``feed`` text with escape sequences, ``lines`` reads it."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells = [self._blank() for _ in range(height)]
        self.x = self.y = 0
        self.sgr = {"fg": None, "bg": None, "bold": False, "inverse": False}
        self.pending = ""   # an escape sequence split between two events

    def _blank(self) -> list[tuple[str, Style]]:
        return [(" ", PLAIN)] * self.width

    def feed(self, text: str) -> None:
        text, self.pending = self.pending + text, ""
        i = 0
        while i < len(text):
            char = text[i]
            if char == "\x1b":
                end = self._escape(text, i + 1)
                if end is None:           # incomplete: wait for the next event
                    self.pending = text[i:]
                    return
                i = end
                continue
            if ord(char) < 32:
                self._control(char)
            else:
                self._put(char)
            i += 1

    def _escape(self, text: str, i: int) -> int | None:
        """Handle the sequence after ESC at ``i``; returns where the text goes on."""
        if i >= len(text):
            return None
        kind = text[i]
        if kind == "[":
            match = CSI.match(text, i)
            if match is None:
                return None if len(text) - i < 32 else i + 1
            self._csi(match.group(1), match.group(2))
            return match.end()
        if kind == "]":                   # OSC (window title...): up to BEL or ESC \
            ends = [p for p in (text.find("\x07", i), text.find("\x1b\\", i)) if p >= 0]
            if not ends:
                return None
            end = min(ends)
            return end + (1 if text[end] == "\x07" else 2)
        if kind in "()*+#%":              # charset selection: one more character
            return i + 2 if i + 1 < len(text) else None
        return i + 1                      # ESC 7, ESC 8, ESC =, ...: no visible effect here

    def _control(self, char: str) -> None:
        if char == "\n":
            self._line_feed()
        elif char == "\r":
            self.x = 0
        elif char == "\b":
            self.x = max(0, min(self.x, self.width - 1) - 1)
        elif char == "\t":
            self.x = min(self.width - 1, (self.x // 8 + 1) * 8)

    def _put(self, char: str) -> None:
        if unicodedata.combining(char) or unicodedata.category(char).startswith("C"):
            return                        # nothing to draw; keeps the SVG valid XML
        if self.x >= self.width:          # autowrap
            self.x = 0
            self._line_feed()
        self.cells[self.y][self.x] = (char, self._style())
        self.x += 1

    def _line_feed(self) -> None:
        if self.y == self.height - 1:
            self.cells = self.cells[1:] + [self._blank()]
        else:
            self.y += 1

    def _style(self) -> Style:
        fg, bg = self.sgr["fg"], self.sgr["bg"]
        if self.sgr["inverse"]:
            fg, bg = bg or BACKGROUND, fg or FOREGROUND
        return Style(fg, bg, self.sgr["bold"])

    def _csi(self, params: str, final: str) -> None:
        private = params.startswith(("?", ">", "<", "="))
        nums = [int(p) if p.isdigit() else 0 for p in params.lstrip("?><=").split(";")]
        n = max(nums[0], 1)
        if private:
            return
        if final == "m":
            self._sgr(nums)
        elif final == "K":
            self._erase_line(nums[0])
        elif final == "J":
            self._erase_display(nums[0])
        elif final in "ABCDEFGHdf":
            self._move(final, nums, n)

    def _move(self, final: str, nums: list[int], n: int) -> None:
        x, y = min(self.x, self.width - 1), self.y
        if final == "A":
            y -= n
        elif final == "B":
            y += n
        elif final == "C":
            x += n
        elif final == "D":
            x -= n
        elif final in "EF":
            x, y = 0, y + (n if final == "E" else -n)
        elif final == "G":
            x = n - 1
        elif final == "d":
            y = n - 1
        else:                              # H, f
            y, x = n - 1, (max(nums[1], 1) if len(nums) > 1 else 1) - 1
        self.x = max(0, min(x, self.width - 1))
        self.y = max(0, min(y, self.height - 1))

    def _erase_line(self, mode: int) -> None:
        row, x = self.cells[self.y], min(self.x, self.width)
        span = {0: range(x, self.width), 1: range(0, x + 1)}.get(mode, range(self.width))
        for col in span:
            if col < self.width:
                row[col] = (" ", PLAIN)

    def _erase_display(self, mode: int) -> None:
        self._erase_line(mode)
        rows = {0: range(self.y + 1, self.height), 1: range(0, self.y)}.get(
            mode, range(self.height))
        for row in rows:
            self.cells[row] = self._blank()

    def _sgr(self, nums: list[int]) -> None:
        i = 0
        while i < len(nums):
            code = nums[i]
            if code == 0:
                self.sgr.update(fg=None, bg=None, bold=False, inverse=False)
            elif code == 1:
                self.sgr["bold"] = True
            elif code == 22:
                self.sgr["bold"] = False
            elif code in (7, 27):
                self.sgr["inverse"] = code == 7
            elif code in (39, 49):
                self.sgr["fg" if code == 39 else "bg"] = None
            elif 30 <= code <= 37 or 40 <= code <= 47:
                self.sgr["fg" if code < 40 else "bg"] = PALETTE[code % 10]
            elif 90 <= code <= 97 or 100 <= code <= 107:
                self.sgr["fg" if code < 100 else "bg"] = PALETTE[code % 10 + 8]
            elif code in (38, 48):
                colour, used = _extended_colour(nums[i + 1:])
                self.sgr["fg" if code == 38 else "bg"] = colour
                i += used
            i += 1

    def lines(self) -> tuple[Line, ...]:
        """The screen as runs of equal style per line, trailing blanks dropped."""
        return tuple(_runs(row) for row in self.cells)


def _extended_colour(rest: list[int]) -> tuple[str | None, int]:
    """``5;n`` (256 colours) or ``2;r;g;b``; returns the colour and the numbers used."""
    if rest[:1] == [5] and len(rest) > 1:
        return _colour_256(rest[1]), 2
    if rest[:1] == [2] and len(rest) > 3:
        return "#{:02x}{:02x}{:02x}".format(*(min(v, 255) for v in rest[1:4])), 4
    return None, len(rest)


def _colour_256(n: int) -> str:
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        levels = [0 if v == 0 else 55 + v * 40 for v in (n // 36, n // 6 % 6, n % 6)]
        return "#{:02x}{:02x}{:02x}".format(*levels)
    grey = 8 + (min(n, 255) - 232) * 10
    return f"#{grey:02x}{grey:02x}{grey:02x}"


def _runs(row: list[tuple[str, Style]]) -> Line:
    runs: list[list] = []
    for col, (char, style) in enumerate(row):
        if runs and runs[-1][2] == style:
            runs[-1][1] += char
        else:
            runs.append([col, char, style])
    out = [(col, text, style) for col, text, style in runs
           if style.bg is not None or text.strip()]
    return tuple((col, text.rstrip() if style.bg is None else text, style)
                 for col, text, style in out)


# -- cast -> frames -----------------------------------------------------------------------


@dataclass
class Cast:
    width: int
    height: int
    idle_time_limit: float
    events: list[tuple[float, str]]

    @classmethod
    def parse(cls, text: str) -> Cast:
        head, *body = [line for line in text.splitlines() if line.strip()]
        header = json.loads(head)
        if header.get("version") != 2:
            raise ValueError("not an asciinema v2 cast")
        events = [(float(t), data) for t, kind, data in map(json.loads, body) if kind == "o"]
        return cls(int(header["width"]), int(header["height"]),
                   float(header.get("idle_time_limit") or 2.0), events)


def frames(cast: Cast) -> Iterator[tuple[float, tuple[Line, ...]]]:
    """(start time, screen) per distinct frame; pauses are cut to the idle time limit."""
    screen = Screen(cast.width, cast.height)
    shown: tuple[Line, ...] | None = None
    clock = last = 0.0
    for i, (at, data) in enumerate(cast.events):
        clock += min(max(at - last, 0.0), cast.idle_time_limit)
        last = at
        screen.feed(data)
        following = cast.events[i + 1][0] if i + 1 < len(cast.events) else None
        if following is not None and following - at < FRAME_GAP:
            continue
        lines = screen.lines()
        if lines != shown:
            shown = lines
            yield clock, lines


def cast_to_svg(text: str) -> str:
    """An animated SVG of the cast in ``text`` (asciinema v2)."""
    cast = Cast.parse(text)
    timeline = list(frames(cast)) or [(0.0, tuple(() for _ in range(cast.height)))]
    total = timeline[-1][0] + END_HOLD
    ids: dict[Line, str] = {}
    for _, screen in timeline:
        for line in screen:
            if line and line not in ids:
                ids[line] = f"l{len(ids):x}"
    width, height = cast.width * CHAR_WIDTH, cast.height * LINE_HEIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width + 2 * PADDING:g}" height="{height + 2 * PADDING:g}" '
        f'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
        f'font-size="{FONT_SIZE}" xml:space="preserve">',
        f"<style>{_keyframes(timeline, total, height)}"
        "text{white-space:pre}</style>",
        f'<rect width="100%" height="100%" rx="6" fill="{BACKGROUND}"/>',
        "<defs>", *(_line_svg(line, ident) for line, ident in ids.items()), "</defs>",
        # a font wider than CHAR_WIDTH may run into the right padding, not be cut off
        f'<svg x="{PADDING}" y="{PADDING}" width="{width + PADDING:g}" height="{height:g}">',
        f'<g id="frames" fill="{FOREGROUND}">',
    ]
    for index, (_, screen) in enumerate(timeline):
        uses = "".join(f'<use xlink:href="#{ids[line]}" y="{row * LINE_HEIGHT}"/>'
                       for row, line in enumerate(screen) if line)
        parts.append(f'<g transform="translate(0 {index * height:g})">{uses}</g>')
    parts += ["</g></svg></svg>"]
    return "\n".join(parts) + "\n"


def _keyframes(timeline: list[tuple[float, tuple[Line, ...]]], total: float,
               height: float) -> str:
    marks = [(100 * at / total, i) for i, (at, _) in enumerate(timeline)]
    marks.append((100.0, len(timeline) - 1))
    steps = "".join(f"{percent:.3f}%{{transform:translateY({-i * height:g}px)}}"
                    for percent, i in marks)
    return (f"@keyframes play{{{steps}}}"
            f"#frames{{animation:play {total:.2f}s steps(1,end) infinite}}")


def _line_svg(line: Line, ident: str) -> str:
    rects, spans = [], []
    for col, text, style in line:
        x = f"{col * CHAR_WIDTH:g}"
        if style.bg:
            rects.append(f'<rect x="{x}" width="{len(text) * CHAR_WIDTH:g}" '
                         f'height="{LINE_HEIGHT}" fill="{style.bg}"/>')
        attrs = (f' fill="{style.fg}"' if style.fg else "") + (
            ' font-weight="bold"' if style.bold else "")
        if text.strip():
            spans.append(f'<tspan x="{x}"{attrs}>{escape(text)}</tspan>')
    return f'<g id="{ident}">{"".join(rects)}<text y="{BASELINE}">{"".join(spans)}</text></g>'


def render(cast: Path, svg: Path | None = None) -> Path:
    """Write ``cast`` (a .cast file) as SVG next to it (or to ``svg``)."""
    svg = svg or cast.with_suffix(".svg")
    svg.write_text(cast_to_svg(cast.read_text()))
    return svg


def main(argv: Iterable[str]) -> None:
    for name in argv:
        print(render(Path(name)))


if __name__ == "__main__":
    main(sys.argv[1:])
