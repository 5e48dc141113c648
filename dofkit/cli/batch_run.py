"""The CLI side of a batch: inputs and output names from the options, then any engine's
status records turned into progress, error lines, JSON, a report and the exit code."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePath
from typing import Callable, Iterator, Optional

import typer

from ..batch import Report, Task, check_template, collect, place, refuse_collisions, skipped
from ..batch.inputs import IMAGE_SUFFIXES, Source
from ..batch.local import MAX_JOBS
from ..errors import ParameterError
from ..focus import manifest_path
from ..io import STDIO, WRITE_SUFFIXES
from ..pipeline import PipelineSpec
from .common import exit_at_once, fail, notice, printable, stdout_is_terminal
from .progress import BatchProgress

ENGINES = ("local", "ray")


@dataclass
class Shared:
    """The options every image command shares (inputs, focus map, batch), as given."""

    recursive: bool = False
    from_list: Optional[str] = None
    method: str = "auto"
    device: str = "cpu"
    threads: Optional[int] = None
    weights: Optional[str] = None
    max_pixels: Optional[int] = None
    overwrite: bool = False
    skip_existing: bool = False
    report: Optional[str] = None
    jobs: Optional[int] = None
    engine: str = "local"
    ray_address: Optional[str] = None
    quiet: bool = False
    verbose: bool = False

    def batch(self, inputs: list[str] | None, output: Optional[str] = None,
              out_dir: Optional[Path] = None, name: Optional[str] = None) -> "BatchOptions":
        """The batch of these ``inputs`` (and main output options); checks them all."""
        values = {f.name: getattr(self, f.name) for f in fields(Shared)}
        return BatchOptions(**values, inputs=list(inputs or []), output=output,
                            out_dir=out_dir, name=name)

    def focus(self) -> dict:
        """Pipeline keywords of the focus map (see :func:`focus_settings`)."""
        return focus_settings(self.method, self.device, self.threads, self.weights,
                              self.max_pixels)

    def guard(self, *more: Optional[str]) -> tuple:
        """Files besides the images that this run reads (never to be overwritten): the
        weights and their manifest (same stem, ``.json``), the ``--from`` list, ``more``."""
        manifest = manifest_path(Path(self.weights)) if self.weights else None
        return tuple(p for p in (self.weights, manifest, self.from_list, *more)
                     if p and p != "-")


@dataclass
class BatchOptions(Shared):
    """:class:`Shared` plus the inputs and the main output options; ``sources`` is the
    expanded list of inputs."""

    inputs: list[str] = field(default_factory=list)
    output: Optional[str] = None
    out_dir: Optional[Path] = None
    name: Optional[str] = None
    sources: list[Source] = field(default_factory=list)

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise ParameterError(f"--engine must be local or ray; got {self.engine!r}")
        if self.ray_address is not None and self.engine != "ray":
            raise ParameterError("--ray-address goes with --engine ray")
        if self.quiet and self.verbose:
            raise ParameterError("--quiet and --verbose contradict each other")
        if self.name is not None:
            check_template(self.name)
        if self.out_dir is not None and str(self.out_dir) == STDIO:
            raise ParameterError("--out-dir '-': give a folder (stdout takes one output: "
                                 "-o -)")
        if self.jobs is not None and self.jobs < 1:
            bounds = "of at least 1" if self.engine == "ray" else f"from 1 to {MAX_JOBS}"
            raise ParameterError(f"--jobs must be a whole number {bounds}; got {self.jobs}")
        self.sources = collect(self.inputs, recursive=self.recursive, from_list=self.from_list)
        if STDIO in (s.path for s in self.sources) and ((self.jobs or 1) > 1
                                                         or self.engine == "ray"):
            raise ParameterError("stdin ('-') cannot be read by worker processes; drop --jobs "
                                 "and --engine ray")


def focus_settings(method: str, device: str, threads: Optional[int], weights: Optional[str],
                   max_pixels: Optional[int]) -> dict:
    """Pipeline focus keywords; options that only the network reads are refused with a
    method that has none."""
    if method in ("analytic", "paper"):
        for given, option in ((weights, "--weights"), (threads, "--threads"),
                              (device != "cpu" or None, "--device")):
            if given is not None:
                raise ParameterError(f"{option} does nothing with --method {method} (it sets "
                                     "the network: --method srcnn or auto)")
    return {"method": method, "device": device, "threads": threads, "weights": weights,
            "max_pixels": max_pixels}


def main_targets(options: BatchOptions, default: str = "{stem}.png", **fields) -> list[str]:
    """Each input's main output: ``-o`` (one input) or ``--out-dir`` + ``--name``."""
    sources = options.sources
    if (options.output is None) == (options.out_dir is None):
        raise ParameterError("give exactly one of -o/--output (one input) or --out-dir (any "
                             "number of inputs)")
    if options.output is not None:
        if len(sources) != 1:
            raise ParameterError("-o/--output takes a single input; use --out-dir for several")
        if options.name is not None:
            raise ParameterError("--name goes with --out-dir")
        return [options.output]
    return place(sources, options.name or default, options.out_dir, **fields)


def side_targets(options: BatchOptions, value: Optional[str], option: str,
                 suffix: str = ".png", stdout_taken_by: Optional[str] = None, **fields
                 ) -> list[Optional[str]]:
    """Targets of an extra output option (``--overlay``, ``--save-map``): a file (or '-',
    stdout, unless the option ``stdout_taken_by`` writes there) for one input, else a folder
    receiving ``<sub-folders>/<stem><suffix>`` per input, or with ``--name`` the main
    output's name with ``suffix`` (``fields`` fill the template, as in :func:`main_targets`)."""
    if value is None:
        return [None] * len(options.sources)
    if value == STDIO and stdout_taken_by:
        raise ParameterError(f"{option} '-' and {stdout_taken_by} would both write to stdout")
    if _one_file(options, value):
        return [value]
    if value == STDIO:
        raise ParameterError(f"{option} '-' (stdout) takes a single input")
    if not Path(value).is_dir() and Path(value).suffix.lower() in WRITE_SUFFIXES:
        raise ParameterError(f"{option} {value} names one file, but there are "
                             f"{len(options.sources)} inputs; give a folder")
    return place(options.sources, name_stem(options) + suffix, Path(value), **fields)


def name_stem(options: BatchOptions) -> str:
    """The ``--name`` template without its suffix (the name of side outputs, of maps read
    from a folder, of crops), or ``{stem}``."""
    return "{stem}" if options.name is None else str(PurePath(options.name).with_suffix(""))


def _one_file(options: BatchOptions, value: str) -> bool:
    """Whether an output option's ``value`` names one file (one input, and '-' or a name with
    a suffix that is not a folder) rather than a folder."""
    return len(options.sources) == 1 and (value == STDIO or not Path(value).is_dir()
                                          and bool(Path(value).suffix))


def refuse_unused_name(options: BatchOptions, folders: dict[str, Optional[str]]) -> None:
    """ParameterError when ``--name`` is given but none of the output options ``folders``
    (option -> value) names a folder, whose files it would name."""
    if options.name is not None and all(value is None or _one_file(options, value)
                                         for value in folders.values()):
        raise ParameterError(f"--name names the files of a {' or '.join(folders)} folder; "
                             "give one", "name")


def map_files(options: BatchOptions, map_path: Optional[str], **fields) -> list[Optional[str]]:
    """``--map``: a file for one input, else a folder of maps named as ``dofkit map --out-dir``
    or ``--save-map`` wrote them: ``<sub-folders>/<stem>`` with any image suffix, or with
    ``--name`` its template first (``fields`` fill it); PNG when none is there."""
    if map_path is None:
        return [None] * len(options.sources)
    if len(options.sources) == 1 and not Path(map_path).is_dir():
        return [map_path]
    if not Path(map_path).is_dir():
        raise ParameterError(f"--map {map_path}: with several inputs, give a folder of maps "
                             "named <stem>.png")
    templates = [name_stem(options), "{stem}"]
    names = zip(*(place(options.sources, t, Path(map_path), **fields) for t in templates))
    return [_map_file([Path(stem) for stem in stems]) for stems in names]


def _map_file(stems: list[Path]) -> str:
    """The first of ``stems`` found in its folder with an image suffix (ParameterError if
    one is there with several), else the first stem + ``.png``."""
    for stem in stems:
        try:
            found = sorted(p for p in stem.parent.iterdir() if p.stem == stem.name
                           and p.suffix.lower() in IMAGE_SUFFIXES)
        except OSError:  # a sub-folder missing: the map is missing
            found = []
        if len(found) > 1:
            raise ParameterError(f"--map: {', '.join(map(str, found))} are maps of one input; "
                                 "keep one", "map")
        if found:
            return str(found[0])
    return f"{stems[0]}.png"


def execute(spec: PipelineSpec, tasks: list[Task], options: BatchOptions, *, label: str,
            guard: tuple = (), on_status: Callable[[dict], None] | None = None,
            stdout: bool = False) -> None:
    """Run ``tasks`` on the chosen engine; exits 1 when any input failed. ``stdout``: whether
    ``on_status`` writes data (JSON) to stdout, where no live progress bar may mix with it."""
    read = [t.source for t in tasks] + [t.map for t in tasks if t.map] + [str(g) for g in guard]
    report_file = options.report if options.report != STDIO else None
    refuse_collisions(tasks, read, options.overwrite, others=[("report", report_file)])
    if report_file and os.path.isdir(report_file):  # found out before the run, not after it
        raise ParameterError(f"{report_file} is a folder; name the report's file", "report")
    if report_file and Path(report_file).suffix.lower() in IMAGE_SUFFIXES:  # a photo, by a slip
        raise ParameterError(f"--report {report_file}: a report is JSON Lines, not an image; "
                             "name it .jsonl", "report")
    if options.report == STDIO and (stdout or any(STDIO in t.targets.values() for t in tasks)):
        raise ParameterError("--report '-' and the command's own output would both write to "
                             "stdout; give the report a file name")
    stdout = stdout or options.report == STDIO
    if options.engine == "ray" and any(STDIO in t.targets.values() for t in tasks):
        raise ParameterError("a Ray worker's stdout is not this command's (an output '-' would "
                             "be lost in the cluster's logs); name an output file")
    if any(STDIO in t.targets.values() for t in tasks) and stdout_is_terminal():
        raise ParameterError("refusing to write image data to a terminal; redirect stdout or "
                             "name an output file")
    done = [skipped(t) if options.skip_existing else None for t in tasks]
    todo = [t for t, status in zip(tasks, done) if status is None]
    quiet_native = not options.verbose
    interrupted = None
    with Report(options.report) as report, \
            BatchProgress(len(tasks), label, quiet=options.quiet,
                          live=not (stdout and stdout_is_terminal())) as progress:
        statuses = _engine(spec, todo, options, guard, quiet_native)
        held = None  # a record taken and not yet in the report
        try:
            for status in _merged(done, statuses):
                held = status
                report.write(status)
                held = None
                _counted(status, progress, options.verbose, on_status)
        except KeyboardInterrupt:  # the record in hand, then those the engine still finds
            for status in itertools.chain([held] if held else [], _wound_down(statuses)):
                report.write(status)
                _counted(status, progress, options.verbose, on_status)
            report.close()
            interrupted = (f"interrupted after {progress.done} of {len(tasks)} inputs" + (
                f"; {report_file} holds them" if report_file and report.written else ""))
    if interrupted and options.engine == "ray":
        exit_at_once(interrupted)  # the report and outputs closed, Ray shut down
    if interrupted:
        fail(interrupted, 130)
    if not options.quiet and len(tasks) > 1:
        notice(f"{label}: {progress.summary()}")
    if progress.failed:
        raise typer.Exit(1)


def _counted(status: dict, progress: BatchProgress, verbose: bool,
             on_status: Callable[[dict], None] | None) -> None:
    """Count ``status`` and show it: an error line if it failed, its outputs with
    ``verbose``, and ``on_status`` for a record of work done now (not skipped, nor found on
    disk after an interrupt: those hold no ``result``)."""
    progress.add(status)
    if not status["ok"]:
        progress.print(f"dofkit: error: {printable(status['error'])}")
        return
    found = status.get("found_after_interrupt")
    if verbose:
        done_how = ("skipped: its outputs exist" if status.get("skipped") else
                    "found on disk after the interrupt" if found else
                    f"{status['seconds']:.2f} s")
        written = f" -> {printable(', '.join(status['outputs']))}" if status["outputs"] else ""
        progress.print(f"dofkit: {printable(status['input'])}{written} ({done_how})")
    if on_status is not None and not status.get("skipped") and not found:
        on_status(status)


def _wound_down(statuses) -> Iterator[dict]:
    """After an interrupt: the interrupt thrown into the engine's ``statuses``, which ends
    its work (Ray shut down, the pool ended) before the process may end at once, and yields
    the records it still accounts for (outputs written meanwhile) before raising it again;
    those records."""
    if not hasattr(statuses, "throw"):
        return
    try:
        status = statuses.throw(KeyboardInterrupt())
        while True:
            yield status
            status = next(statuses)
    except (KeyboardInterrupt, StopIteration):  # again, or an engine already ended
        return


def _merged(known: list, statuses):
    """Status records in task order: those ``known`` (skipped tasks), and in place of each
    None the next of the engine's ``statuses`` (which come in task order too)."""
    statuses = iter(statuses)
    for status in known:
        yield status or next(statuses)
    yield from statuses  # none is left: this runs the engine to its end (its clean-up)


def _engine(spec, tasks, options: BatchOptions, guard, quiet_native):
    if not tasks:
        return iter(())
    if options.engine == "ray":
        from ..batch.ray_engine import run_ray

        return run_ray(spec, tasks, address=options.ray_address, jobs=options.jobs,
                       guard=guard, overwrite=options.overwrite, quiet=quiet_native)
    from ..batch import run_local

    return run_local(spec, tasks, jobs=options.jobs or 1, guard=guard, overwrite=options.overwrite,
                     quiet=quiet_native, notify=notice)


