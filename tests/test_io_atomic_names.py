"""AtomicFile.commit_new: the first free name of several, never replacing a file, even one
that appears between a check and the rename (another process taking the name)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dofkit.errors import OutputError
from dofkit.io import AtomicFile


@pytest.fixture
def checks_race(monkeypatch):
    """Every 'is this name free?' check says yes, as if the name were taken just after it."""
    monkeypatch.setattr(os.path, "lexists", lambda path: False)
    monkeypatch.setattr(os.path, "exists", lambda path: False)


def _litter(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(".dofkit-")]


def test_commit_new_takes_the_first_free_name_and_replaces_nothing(tmp_path, checks_race):
    taken, link, free = (tmp_path / name for name in ("a.partial", "a.partial-2", "a.partial-3"))
    taken.write_bytes(b"theirs")
    link.symlink_to(tmp_path / "nowhere")
    output = AtomicFile(tmp_path / "a")
    output.write(b"ours")
    assert output.commit_new([taken, link, free]) == free
    assert taken.read_bytes() == b"theirs" and os.readlink(link) == str(tmp_path / "nowhere")
    assert free.read_bytes() == b"ours" and not _litter(tmp_path)


def test_commit_new_without_a_free_name_is_an_output_error_and_leaves_nothing(tmp_path):
    taken = tmp_path / "a.partial"
    taken.write_bytes(b"theirs")
    output = AtomicFile(tmp_path / "a")
    output.write(b"ours")
    with pytest.raises(OutputError, match="no free name"):
        output.commit_new([taken])
    assert taken.read_bytes() == b"theirs" and not _litter(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["a.partial"]


def test_a_partial_json_lines_output_never_replaces_a_name_taken_after_the_check(
        tmp_path, checks_race):
    from dofkit.video.io import Frame, JsonLinesSink

    taken = tmp_path / "out.partial.jsonl"
    taken.write_text("theirs\n")
    sink = JsonLinesSink(str(tmp_path / "out.jsonl"))
    sink.write(Frame(index=0, time=0.0, rgb=None), {"score": 1})
    kept = sink.keep_partial()
    assert taken.read_text() == "theirs\n"
    assert kept == tmp_path / "out.partial-2.jsonl" and '"frame": 0' in kept.read_text()


def test_commit_new_works_where_the_file_system_has_no_hard_links(tmp_path, monkeypatch):
    """FAT, some network and FUSE file systems refuse hard links (EPERM): the partial output
    of an interrupted run was discarded there; it is named by a rename instead, still never
    over an existing file."""
    import errno

    real_link = os.link

    def no_links(source, target, **options):  # the unnamed file's own naming left as is
        if options:
            return real_link(source, target, **options)
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    taken = tmp_path / "a.partial"
    taken.write_bytes(b"theirs")
    output = AtomicFile(tmp_path / "a")
    output.write(b"ours")
    kept = output.commit_new([taken, tmp_path / "a.partial-2"])
    assert kept == tmp_path / "a.partial-2" and kept.read_bytes() == b"ours"
    assert taken.read_bytes() == b"theirs" and not _litter(tmp_path)
