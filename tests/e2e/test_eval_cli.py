"""`copilot-ls eval` on a small generated repository, with the real embedded model."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.model

GEOMETRY = '''"""Shapes and their measures."""

import math


def circle_area(radius):
    """Area of a circle of the given radius."""
    return math.pi * radius * radius


def rectangle_area(width, height):
    """Area of a width by height rectangle."""
    return width * height
'''

PLAN = '''"""Areas of the rooms of a floor plan."""

from geometry import circle_area, rectangle_area


def room_areas(rooms):
    areas = {}
    for name, width, height in rooms:
        areas[name] = rectangle_area(width, height)
    return areas


def fountain_area(radius):
    basin = circle_area(radius)
    return basin + circle_area(radius + 0.5)
'''

REPORT = '''"""Printing a floor plan."""

from plan import room_areas


def describe(rooms):
    lines = []
    for name, area in sorted(room_areas(rooms).items()):
        lines.append(f"{name}: {area:.1f} m2")
    return "\\n".join(lines)
'''

SETTINGS = '{"completion": {"maxTokens": 24, "maxPromptTokens": 256}}'


def run_eval(folder, *args):
    return subprocess.run(
        [sys.executable, "-m", "copilot_ls", "eval", str(folder), *args, "--settings", SETTINGS],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def repository(tmp_path):
    folder = tmp_path / "repo"
    folder.mkdir()
    for name, text in {"geometry.py": GEOMETRY, "plan.py": PLAN, "report.py": REPORT}.items():
        (folder / name).write_text(text)
    return folder


def test_json_report_has_both_arms_with_scores_in_range_for_three_sites(repository):
    done = run_eval(repository, "--n", "3", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["sites"] == 3 and report["requested"] == 3 and report["eligible_lines"] >= 3
    for arm in ("with_context", "without_context"):
        summary = report[arm]
        for metric in ("exact_match", "edit_similarity", "identifier_f1"):
            assert 0.0 <= summary[metric] <= 1.0
        assert summary["mean_seconds"] > 0 and summary["mean_prompt_tokens"] > 0
    assert report["settings"]["maxPromptTokens"] == 256
    rows = report["rows"]
    assert len(rows) == 3
    assert {row["path"] for row in rows} <= {"plan.py", "report.py"}  # they use geometry/plan
    assert all(row["cross_file_names"] for row in rows)
    assert report["context_used"] >= 1  # retrieval found the definitions in another file


def test_table_report_on_any_lines(repository):
    done = run_eval(repository, "--n", "2", "--sites", "any")
    assert done.returncode == 0, done.stderr
    assert "2 sites (any, seed 0)" in done.stdout
    assert "with context" in done.stdout and "delta (with - without)" in done.stdout


def test_fresh_runs_repeat_exactly(repository):
    """With --fresh every completion starts from an empty context and decodes one token at a
    time: two runs give the same completions, site by site and arm by arm."""
    runs = []
    for _ in range(2):
        done = run_eval(repository, "--n", "3", "--fresh", "--json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["fresh"] is True
        for row in report["rows"]:  # nothing kept from the completion before
            assert row["with_context"]["reused_tokens"] == 0
            assert row["without_context"]["reused_tokens"] == 0
        runs.append(
            [
                (row["path"], row["line"], row[arm]["completion"])
                for row in report["rows"]
                for arm in ("with_context", "without_context")
            ]
        )
    assert runs[0] == runs[1]
