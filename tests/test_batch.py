"""Batches from the command line: folders, globs, lists, mirrored outputs, templates,
collisions, reports, resume, jobs; every broken input one line, the batch goes on."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dofkit.cli import app
from dofkit.io import open_image, write_image

runner = CliRunner()


@pytest.fixture
def tree(tmp_path, half_sharp) -> Path:
    """photos/a.png, photos/b.jpg, photos/sub/a.png, photos/sub/deep/c.tif; broken files:
    photos/cut.png (truncated), photos/sub/empty.jpg, photos/sub/text.webp."""
    root = tmp_path / "photos"
    image = half_sharp[0]
    for name in ("a.png", "b.jpg", "sub/a.png", "sub/deep/c.tif"):
        write_image(root / name, image)
    (root / "cut.png").write_bytes((root / "a.png").read_bytes()[:400])
    (root / "sub/empty.jpg").write_bytes(b"")
    (root / "sub/text.webp").write_bytes(b"hello")
    return root


def run(*arguments: str):
    return runner.invoke(app, [str(a) for a in arguments])


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_folder_recursive_mirrors_the_tree_and_reports_failures(tree, tmp_path):
    out, report = tmp_path / "maps", tmp_path / "r.jsonl"
    result = run("map", tree, "-r", "-m", "analytic", "--out-dir", out, "--report", report)
    assert result.exit_code == 1
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["a.png", "b.png", "sub/a.png", "sub/deep/c.png"]
    records = rows(report)
    assert len(records) == 7 and sum(not r["ok"] for r in records) == 3
    assert all(set(r) >= {"input", "outputs", "ok", "error", "seconds"} for r in records)
    assert sum(line.startswith("dofkit: error:") for line in result.stderr.splitlines()) == 3
    assert "Traceback" not in result.output


def test_skip_existing_redoes_nothing_and_still_fails(tree, tmp_path):
    out = tmp_path / "maps"
    run("map", tree, "-r", "-m", "analytic", "--out-dir", out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.png")}
    report = tmp_path / "again.jsonl"
    result = run("map", tree, "-r", "-m", "analytic", "--out-dir", out, "--skip-existing",
                 "--report", report)
    assert result.exit_code == 1
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.png")} == stamps
    records = rows(report)
    assert sum(bool(r.get("skipped")) for r in records) == 4
    assert sum(not r["ok"] for r in records) == 3


def test_without_recursive_a_folder_gives_its_own_images(tree, tmp_path):
    result = run("map", tree, "-m", "analytic", "--out-dir", tmp_path / "m", "-q")
    assert result.exit_code == 1  # cut.png
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["a.png", "b.png"]


def test_glob_and_list_file(tree, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"{tree / 'b.jpg'}\n\n# a comment\n")
    result = run("map", str(tree / "sub" / "*.png"), "--from", listing, "-m", "analytic",
                 "--out-dir", tmp_path / "m")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["a.png", "b.png"]


def test_name_template_and_collisions_refused_before_anything_runs(tree, tmp_path):
    inputs = (tree / "a.png", tree / "sub" / "a.png")  # named directly: no tree to mirror
    result = run("map", *inputs, "-m", "analytic", "--out-dir", tmp_path / "w")
    assert result.exit_code == 2 and "two outputs would be written here" in result.stderr
    assert not (tmp_path / "w").exists()
    result = run("map", *inputs, "-m", "analytic", "--out-dir", tmp_path / "m", "--name",
                 "{parent}-{stem}.png")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["photos-a.png", "sub-a.png"]
    result = run("map", *inputs, "-m", "analytic", "--out-dir", tmp_path / "x", "--name",
                 "../{stem}.png")
    assert result.exit_code == 2 and "inside the output folder" in result.stderr
    result = run("map", *inputs, "-m", "analytic", "--out-dir", tmp_path / "y", "--name",
                 "{stem}-{style}.png")
    assert result.exit_code == 2 and "{style} means nothing" in result.stderr
    result = run("map", tree / "a.png", "-m", "analytic", "--out-dir", tree, "--name",
                 "a.png")
    assert result.exit_code == 2 and "refusing to overwrite an input" in result.stderr


@pytest.mark.parametrize("template, error", [
    ("{}.png", "no format or conversion"), ("{stem:x}.png", "no format or conversion"),
    ("{stem!r}.png", "no format or conversion"),
    ("{stem:>99999999999}.png", "no format or conversion"), ("", "template is empty")])
def test_name_template_fields_are_plain_names(tree, tmp_path, template, error):
    result = run("map", tree / "a.png", "-m", "analytic", "--out-dir", tmp_path / "m",
                 "--name", template)
    assert result.exit_code == 2, result.output
    assert error in result.stderr and "internal error" not in result.stderr
    assert not (tmp_path / "m").exists()


def test_stylize_folder_one_output_per_good_image(tree, tmp_path):
    out = tmp_path / "styled"
    result = run("stylize", tree, "-r", "--out-dir", out, "-m", "analytic", "--backend", "cpu",
                 "--name", "{stem}-{style}.png")
    assert result.exit_code == 1
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["a-toon.png", "b-toon.png", "sub/a-toon.png", "sub/deep/c-toon.png"]


def test_stylize_two_argument_form_stays(tree, tmp_path):
    result = run("stylize", tree / "a.png", tmp_path / "s.png", "-m", "analytic", "--backend",
                 "cpu")
    assert result.exit_code == 0, result.output
    assert open_image(tmp_path / "s.png").size == (128, 96)


def test_jobs_give_the_same_maps(tree, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    run("map", tree, "-r", "-m", "analytic", "--out-dir", one, "-q")
    result = run("map", tree, "-r", "-m", "analytic", "--out-dir", two, "-q", "--jobs", "2",
                 "--report", tmp_path / "r.jsonl")
    assert result.exit_code == 1
    for path in one.rglob("*.png"):
        other = two / path.relative_to(one)
        np.testing.assert_array_equal(open_image(path).rgb, open_image(other).rgb)
    assert len(rows(tmp_path / "r.jsonl")) == 7


def test_messages_escape_control_characters(tmp_path):
    weird = tmp_path / "bad\x1b[31mname\n.png"
    weird.write_bytes(b"junk")
    result = run("map", weird, "-m", "analytic", "-o", tmp_path / "m.png")
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "\\x1b[31mname\\n.png" in result.stderr


def test_video_input_points_to_dofkit_video(tmp_path):
    result = run("map", tmp_path / "clip.mp4", "-o", tmp_path / "m.png")
    assert result.exit_code == 1 and "use `dofkit video" in result.stderr


def test_refuses_image_bytes_onto_a_terminal(tree, monkeypatch):
    monkeypatch.setattr("dofkit.cli.batch_run.stdout_is_terminal", lambda: True)
    result = run("map", tree / "a.png", "-o", "-", "-m", "analytic")
    assert result.exit_code == 2 and "terminal" in result.stderr


def test_options_the_method_ignores_are_refused(tree, tmp_path):
    result = run("map", tree / "a.png", "-o", tmp_path / "m.png", "-m", "analytic",
                 "--weights", "w.safetensors")
    assert result.exit_code == 2 and "--weights does nothing with --method analytic" in (
        result.stderr)


def test_usage_errors_are_one_line_exit_2(tree):
    result = run("map", tree / "a.png", "--no-such-option")
    assert result.exit_code == 2
    assert result.stderr.startswith("dofkit: error:") or "No such option" in result.output


def test_unwritable_output_folder_is_one_line_and_the_batch_goes_on(tree, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("map", tree / "a.png", tree / "b.jpg", "-m", "analytic", "--out-dir",
                 blocker / "maps")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 2 and all("cannot make folder" in line for line in errors)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder(tree, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    result = run("map", tree / "a.png", "-m", "analytic", "-o", folder / "m.png")
    folder.chmod(0o700)
    assert result.exit_code == 1 and "Permission denied" in result.stderr


def test_report_to_stdout_streams_records_and_never_shares_stdout(tree, tmp_path):
    result = run("map", tree, "-r", "-m", "analytic", "--out-dir", tmp_path / "maps",
                 "--report", "-")
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 7 and sum(not r["ok"] for r in records) == 3
    assert not (Path.cwd() / "-").exists()
    result = run("roi", tree / "a.png", "--json", "-m", "analytic", "--report", "-")
    assert result.exit_code == 2 and "would both write to stdout" in result.stderr


def test_an_interrupted_jobs_run_still_reports_the_inputs_it_finished(tree, tmp_path):
    from dofkit.batch.local import run_local
    from dofkit.batch.naming import Task
    from dofkit.pipeline import PipelineSpec

    spec = PipelineSpec("map", {}, {"method": "analytic"})
    tasks = [Task(str(tree / "a.png"), {"map": str(tmp_path / f"{i}.png")}) for i in range(6)]
    statuses = run_local(spec, tasks, jobs=2)
    first = next(statuses)  # four tasks were sent: some may still be running
    time.sleep(3)  # (most likely done by now; any still running is waited for)
    rest = []
    with pytest.raises(KeyboardInterrupt):
        rest.append(statuses.throw(KeyboardInterrupt))  # Ctrl-C while waiting for the next
        for status in statuses:
            rest.append(status)
    reported = [first["outputs"][0]] + [status["outputs"][0] for status in rest]
    written = sorted(str(p) for p in tmp_path.glob("*.png"))
    assert rest and sorted(reported) == written  # each written map reported, and only those


def test_an_interrupt_between_two_writes_of_one_input_reports_the_first(tree, tmp_path,
                                                                       monkeypatch):
    """Ctrl-C after the stylised image is written and before its map is: the report lists
    the written image (the run still stops with 130)."""
    from dofkit.pipeline import runner

    writes = []

    def write_then_interrupt(*args, **kwargs):
        if writes:
            raise KeyboardInterrupt
        writes.append(args[0])
        return write_image(*args, **kwargs)

    monkeypatch.setattr(runner, "write_image", write_then_interrupt)
    report = tmp_path / "report.jsonl"
    result = run("stylize", tree / "a.png", "-m", "analytic", "--backend", "cpu",
                 "--out-dir", tmp_path / "out", "--save-map", tmp_path / "maps",
                 "--report", report)
    assert result.exit_code == 130, result.output
    assert [Path(p).name for p in writes] == ["a.png"] and Path(writes[0]).is_file()
    [record] = rows(report)
    assert record["outputs"] == writes and not record["ok"]
    assert "interrupted after writing" in record["error"]


def test_a_killed_worker_fails_only_the_inputs_in_flight(half_sharp, tmp_path):
    import signal

    import cv2

    psutil = pytest.importorskip("psutil")
    from dofkit.batch.local import run_local
    from dofkit.batch.naming import Task
    from dofkit.pipeline import PipelineSpec

    spec = PipelineSpec("map", {}, {"method": "analytic"})
    # inputs large enough (about 0.1 s each) that the ones after the first are still being
    # worked on when a worker is killed: tiny ones could all be done by then
    large = cv2.resize(half_sharp[0], (1600, 1200), interpolation=cv2.INTER_LINEAR)
    sources = [tmp_path / f"in{i}.png" for i in range(10)]
    write_image(sources[0], large)
    for source in sources[1:]:
        source.write_bytes(sources[0].read_bytes())
    tasks = [Task(str(s), {"map": str(tmp_path / f"out{i}.png")}) for i, s in enumerate(sources)]
    statuses = run_local(spec, tasks, jobs=2)
    reported = [next(statuses)]
    workers = [p for p in psutil.Process().children()
               if "spawn_main" in " ".join(p.cmdline())]  # not the resource tracker
    assert len(workers) == 2
    workers[0].send_signal(signal.SIGKILL)
    # wait until it is dead without reaping it (psutil's wait() would): the pool's own
    # waitpid must find it, or multiprocessing takes it for alive for ever and the broken
    # pool's shutdown spins (an OOM kill in real use is never reaped by anyone else)
    for _ in range(1000):
        try:
            if workers[0].status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:  # reaped by the pool already
            break
        time.sleep(0.01)
    reported += list(statuses)
    assert [s["input"] for s in reported] == [t.source for t in tasks]
    failed = [i for i, s in enumerate(reported) if not s["ok"]]
    assert failed and all("a worker process ended abruptly" in reported[i]["error"]
                          for i in failed)
    assert len(failed) <= 4 and reported[-1]["ok"]  # at most 2 * jobs were in flight
    written = {str(p) for p in tmp_path.glob("out*.png")}
    assert {s["outputs"][0] for s in reported if s["ok"]} <= written  # a dying pool may
    assert len(written) >= len(tasks) - len(failed)  # lose the answer of a written output


def test_a_list_file_may_name_files_whose_names_are_not_utf8(tree, tmp_path):
    odd = tree / os.fsdecode(b"caf\xe9.png")
    odd.write_bytes((tree / "a.png").read_bytes())
    listing = tmp_path / "list.txt"
    listing.write_bytes(os.fsencode(odd) + b"\n" + os.fsencode(tree / "b.jpg") + b"\n")
    result = run("map", "--from", listing, "-m", "analytic", "--out-dir", tmp_path / "m")
    assert result.exit_code == 0, result.output
    assert sorted(os.fsencode(p.name) for p in (tmp_path / "m").iterdir()) == [b"b.png",
                                                                                 b"caf\xe9.png"]


def test_report_rows_follow_the_inputs_with_skip_existing_too(tree, tmp_path):
    out, first, again = tmp_path / "maps", tmp_path / "first.jsonl", tmp_path / "again.jsonl"
    run("map", tree, "-r", "-m", "analytic", "--out-dir", out, "--report", first, "-q")
    order = [r["input"] for r in rows(first)]
    assert order.index(str(tree / "b.jpg")) > 0  # b.jpg is not the first input
    for path in out.rglob("*.png"):
        if path.name != "b.png":
            path.unlink()
    result = run("map", tree, "-r", "-m", "analytic", "--out-dir", out, "--skip-existing",
                 "--report", again, "-q", "--jobs", "2")
    assert result.exit_code == 1
    records = rows(again)
    assert [r["input"] for r in records] == order
    assert [r["input"] for r in records if r.get("skipped")] == [str(tree / "b.jpg")]


def test_an_engine_is_run_to_its_end_so_an_error_in_its_clean_up_is_not_lost():
    """The rows merged with the skipped ones: the engine was left suspended after its last
    row, and an error of its clean-up (shutting Ray down, closing the pipeline) was only
    printed by Python as 'Exception ignored', whatever the exit code said."""
    from dofkit.cli.batch_run import _merged

    def engine():
        yield {"input": "b"}
        raise OSError("clean-up failed")

    with pytest.raises(OSError, match="clean-up failed"):
        list(_merged([{"input": "a"}, None], engine()))
