"""Lines elsewhere in the current file that use the objects used near the cursor."""

from copilot_ls.context.usages import (
    MAX_DISTANCE,
    MAX_PER_OBJECT,
    objects_nearest_first,
    usage_snippets,
    uses,
)

FILE = """class Connection:
    def open(self):
        self._loop.add_reader(self._fd, self._on_read)
        if self._loop.get_debug():
            log("opened")
        settings.TIMEOUT

    def close(self):
        self._loop.remove_reader(self._fd)
        self._loop.remove_reader(self._fd)

    def send(self, data):
        self._sock.send(data)
        self._loop.call_soon(self._done)
        <cursor>
        self._loop.remove_reader(self._fd)
        self._loop.time()
""".replace("<cursor>", "").split("\n")
CURSOR = 14
WINDOW = (11, 17)
ABOVE = FILE[WINDOW[0] : CURSOR]


def shown(snippets) -> list[tuple[int, str]]:
    return [(s.lines[0], s.name) for s in snippets]


def test_a_dotted_chain_gives_each_object_with_its_attribute():
    assert uses("x = self._loop.call_soon(cb)") == [("self", "_loop"), ("self._loop", "call_soon")]
    assert uses("a.b(c.d)") == [("a", "b"), ("c", "d")]
    assert uses("no chain here") == []


def test_objects_come_nearest_first_and_self_last():
    above = ["self._sock.send(data)", "self._loop.call_soon(self._done)"]
    assert objects_nearest_first(above) == ["self._loop", "self._sock", "self"]


def test_lines_outside_the_window_using_an_object_of_the_window_are_proposed():
    found = shown(usage_snippets("/w/c.py", FILE, CURSOR, WINDOW, ABOVE))
    assert (3, "self._loop.get_debug") in found
    assert (2, "self._loop.add_reader") in found


def test_an_attribute_the_window_shows_already_is_not_proposed_again():
    found = [name for _line, name in shown(usage_snippets("/w/c.py", FILE, CURSOR, WINDOW, ABOVE))]
    assert "self._loop.call_soon" not in found
    assert "self._sock.send" not in found


def test_lines_inside_the_window_and_the_cursor_line_are_never_proposed():
    for snippet in usage_snippets("/w/c.py", FILE, CURSOR, WINDOW, ABOVE):
        assert not WINDOW[0] <= snippet.lines[0] < WINDOW[1]


def test_the_attribute_used_most_comes_first_shown_on_its_nearest_line():
    found = shown(usage_snippets("/w/c.py", FILE, CURSOR, WINDOW, ABOVE))
    assert found[0] == (9, "self._loop.remove_reader")  # used twice outside the window


def test_objects_used_only_outside_the_window_are_not_looked_up():
    found = [name for _line, name in shown(usage_snippets("/w/c.py", FILE, CURSOR, WINDOW, ABOVE))]
    assert not any(name.startswith("settings.") for name in found)


def test_each_object_gets_a_few_lines_at_most():
    lines = [f"obj.attr_{n}()" for n in range(10)] + ["", "obj.first()", ""]
    found = usage_snippets("/w/c.py", lines, 12, (11, 13), ["obj.first()"])
    assert len(found) == MAX_PER_OBJECT


def test_without_objects_above_the_cursor_nothing_is_proposed():
    assert usage_snippets("/w/c.py", FILE, CURSOR, WINDOW, ["x = 1"]) == []


def test_self_is_looked_up_only_in_the_class_around_the_cursor():
    lines = [
        "class Other:",
        "    def a(self):",
        "        self.reset()",
        "class Mine:",
        "    def b(self):",
        "        self.flush()",
        "    def c(self):",
        "        self.write(x)",
        "        ",
    ]
    above = lines[6:8]
    found = [s.name for s in usage_snippets("/w/c.py", lines, 8, (6, 9), above, own_class=(3, 8))]
    assert found == ["self.flush"]
    assert usage_snippets("/w/c.py", lines, 8, (6, 9), above, own_class=None) == []


def test_lines_too_far_from_the_cursor_are_not_scanned():
    """The scan is bounded, so that a huge file costs no more than a long one."""
    filler = ["pass"] * MAX_DISTANCE
    lines = ["sock.fileno()", *filler, "sock.close()", "sock.send(b'x')", ""]
    cursor = len(lines) - 1
    found = shown(usage_snippets("/w/s.py", lines, cursor, (cursor - 1, cursor + 1), lines[-2:-1]))
    assert found == [(MAX_DISTANCE + 1, "sock.close")]  # not line 0, beyond the reach
