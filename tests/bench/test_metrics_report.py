"""The metrics report builds from a recorded JSON alone: `waft bench --metrics --report-only`.

The recorded JSON is the committed bench/results/metrics_<target>.json (what
a real run wrote).  Re-rendering it must give a section per group with a
table row per figure, its unit, the machine and the clock, and a PNG per
group that has figures; a file that is not a metrics report is one line of
error and leaves nothing half-written.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECORDED = REPO / "bench" / "results"


def report_only(target: str, results: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", "bench", "--metrics", "--report-only", "--target", target,
                           "--results", str(results)], capture_output=True, text=True, cwd=REPO, timeout=120,
                          check=False)


@pytest.mark.parametrize("target", ["stm32f4", "host"])
def test_the_report_builds_from_the_recorded_json(tmp_path, target):
    recorded = RECORDED / f"metrics_{target}.json"
    shutil.copy(recorded, tmp_path / recorded.name)
    result = report_only(target, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(recorded.read_text())
    report = (tmp_path / f"metrics_{target}.md").read_text()
    assert f"# Runtime metrics on {target}" in report and data["method"] in report
    assert f"Machine: {data['machine']}" in report
    for name in ("calls", "wasi", "startup", "compile"):
        assert name in data["groups"], f"{recorded} has no {name} group"
    for name, group in data["groups"].items():
        assert f"## {name}: {group['title']}" in report
        if "error" in group:
            continue
        if group["rows"]:
            assert f"Unit: {group['unit']}" in report
            png = tmp_path / f"metrics_{target}_{name}.png"
            assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
            assert f"![{name}](metrics_{target}_{name}.png)" in report
        for row in group["rows"]:
            assert f"| {row['label']}" in report, row["label"]
            if row["waft"] and row["waft"].get("p99") is not None:
                assert f"(p99 " in report
    # The re-rendered JSON keeps every figure as recorded.
    again = json.loads((tmp_path / f"metrics_{target}.json").read_text())
    assert again["groups"] == data["groups"]


def test_a_file_that_is_no_report_is_one_line_of_error(tmp_path):
    (tmp_path / "metrics_stm32f4.json").write_text('{"target": "stm32f4"}')
    result = report_only("stm32f4", tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "not a metrics report (no cpu, runner, method, groups)" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics_stm32f4.json"]

    (tmp_path / "metrics_stm32f4.json").write_text("{not json")
    result = report_only("stm32f4", tmp_path)
    assert result.returncode == 1 and "not JSON" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics_stm32f4.json"]
