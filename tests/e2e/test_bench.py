"""`captionbot bench --quick` runs end to end on the tiny model: model figures for each engine,
then the real bot against the fake Telegram server, every photo answered; each target's verdict
follows from the figure it shows, and `--strict` fails the run when one is not met."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from bot.bench.bot_process import SCRUBBED_PREFIXES, captionbot_command

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


def close(value: float, limit: float) -> bool:
    """Too close to the limit to tell from a figure printed with one or two decimals."""
    return abs(value - limit) <= 0.05


def target_met(text: str) -> bool | None:
    """Whether the figures a target line shows meet it, worked out again from the line (None:
    a figure too close to its limit to tell as printed)."""
    if match := re.search(r"model throughput >= (\d+)x eager batch 1: ([\d.]+)x", text):
        value, limit = float(match[2]), float(match[1])
        return None if close(value, limit) else value >= limit
    if match := re.search(r"latency median < (\d+) ms: ([\d.]+) ms", text):
        value, limit = float(match[2]), float(match[1])
        return None if close(value, limit) else value < limit
    if match := re.search(
        r"p95 <= ([\d.]+)x alone and < ([\d.]+) s, the flooder <= (\d+) messages.*: "
        r"p95 ([\d.]+) s against ([\d.]+) s \(([\d.]+)x\), (\d+) messages, (\d+) missed",
        text,
    ):
        ratio, limit, messages = float(match[1]), float(match[2]), int(match[3])
        beside, seen, sent, missed = float(match[4]), float(match[6]), int(match[7]), int(match[8])
        if close(seen, ratio) or close(beside, limit):
            return None
        return seen <= ratio and beside < limit and sent <= messages and missed == 0
    raise AssertionError(f"a target the test does not know: {text}")


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
            "--strict",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env=env,
    )
    out = run.stdout
    verdicts = re.findall(r"^\[(met|not met)\] (.*)$", out, re.MULTILINE)
    assert len(verdicts) == 3, out  # throughput, latency, the flood (the service's needs 64 users)
    all_met = all(verdict == "met" for verdict, _ in verdicts)
    assert run.returncode == (0 if all_met else 1), out + run.stderr[-5000:]
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
    assert [tuple(row[:8]) for row in service] == [
        # engine, workers, users, pace, sent, answered, lost, duplicated
        ("onnx", "all-in-1", "1", "flat-out", "1", "1", "0", "0"),
        ("onnx", "all-in-1", "2", "flat-out", "2", "2", "0", "0"),
        # the paced run: 2 users offering 4 photos/s
        ("onnx", "all-in-1", "2", "4/s", "2", "2", "0", "0"),
    ]
    # the loop's lag, from the bot's metrics: its p99 bucket and its worst, in ms; no workers
    assert all(float(row[-4]) > 0 and row[-3] == "/" and row[-1] == "-" for row in service)
    for verdict, text in verdicts:
        met = target_met(text)
        assert met is None or verdict == ("met" if met else "not met"), text

    flood = section(out, "the flood")
    assert [row[0] for row in flood[:2]] == ["alone", "beside"]
    assert all(float(value) > 0 for row in flood[:2] for value in row[-2:])
    assert "others: 8 photos, 0 not captioned once" in out  # 2 users, 2 photos, 2 runs
    assert "beside a 40-photo flooder" in out
