"""`captionbot bench --quick` runs end to end on the tiny model: model figures for each engine,
then the real bot against the fake Telegram server, every photo answered."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.bot_process import SCRUBBED_PREFIXES, captionbot_command

pytestmark = pytest.mark.e2e


def section(output: str, title: str) -> list[list[str]]:
    """The rows (split on whitespace) of the report section whose heading contains `title`."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("==") and title in line)
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip() or line.startswith("=="):
            break
        rows.append(line.split())
    return rows


def test_bench_quick_reports_engines_and_the_service(tmp_path: Path, tiny_bundle: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
    env["OMP_NUM_THREADS"] = "1"
    run = subprocess.run(
        [
            *captionbot_command(),
            "bench",
            "--quick",
            "--model",
            str(tiny_bundle),
            "--threads",
            "1",
            "--engines",
            "eager,onnx",
            "--service-engines",
            "onnx",
            "--data",
            str(tmp_path / "no-flickr8k"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-5000:]
    out = run.stdout
    assert "cores" in out and "threads: torch 1, ONNX Runtime intra-op 1" in out
    assert "4 generated photos" in out

    throughput = section(out, "throughput")
    assert [(row[0], row[1]) for row in throughput] == [
        ("eager", "1"),
        ("eager", "2"),
        ("onnx", "1"),
        ("onnx", "2"),
    ]
    assert throughput[0][-1] == "1.0x"  # the baseline against itself
    assert all(float(value) > 0 for row in throughput for value in row[2:5])

    latency = section(out, "one photo at a time")
    names = [row[0] for row in latency if row[0] in ("eager", "onnx")]
    assert names == ["eager", "onnx"]
    assert latency[-1][-1] == "4/4"  # onnx gives eager's captions

    service = section(out, "whole service")
    assert [tuple(row[:7]) for row in service] == [
        # engine, users, pace, sent, answered, lost, duplicated
        ("onnx", "1", "flat-out", "1", "1", "0", "0"),
        ("onnx", "2", "flat-out", "2", "2", "0", "0"),
        ("onnx", "2", "4/s", "2", "2", "0", "0"),  # the paced run: 2 users offering 4 photos/s
    ]
    assert "[met] model throughput" in out or "[not met] model throughput" in out

    flood = section(out, "the flood")
    assert [row[0] for row in flood[:2]] == ["alone", "beside"]
    assert all(float(value) > 0 for row in flood[:2] for value in row[-2:])
    assert "others: 8 photos, 0 not captioned once" in out  # 2 users, 2 photos, 2 runs
    assert "beside a 40-photo flooder" in out
