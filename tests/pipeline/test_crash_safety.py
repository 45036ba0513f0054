"""A build cut short anywhere in its corpus stage is finished by the next one, as if never cut.

Each case runs a build (what `kg build` runs) in a process of its own, watches its progress bar (the corpus
stage names each step, and counts its chunks: one node per chunk here, so there are dozens), and
kills the build or its writer from outside at the start, the middle or the end of the stage: with
SIGKILL (kill -9, the OOM killer) or SIGINT (Ctrl-C). Then a build with nothing new to read must
say it finishes the stage, and the store must export exactly what a build never cut short gives.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEEDS

from kg.namespaces import Iris
from kg.pipeline.build import build
from kg.settings import Settings
from kg.store.export import export
from kg.store.store import Store, pending_corpus_warning

# Three seed articles: dozens of corpus nodes in chunks of one, and more to check (sent back to the
# build) than a pipe holds; a few seconds a run.
ARTICLES = sorted(SEEDS.iterdir())[:3]
_VARYING = re.compile(rb"<http://www.w3.org/ns/prov#(?:ended|started)AtTime>")
_WRITING = re.compile(rb"corpus: writing:.*?(\d+)/(\d+)")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for path in ARTICLES:
        shutil.copy(path, folder / path.name)
    return folder


def settings_for(store: Path, cache: Path) -> Settings:
    return Settings(store=store, corpus_chunk=1, wikidata_cache=cache)


def environment(cache: Path) -> dict[str, str]:
    # TQDM_*: every chunk is drawn, so the kill lands where the bar says.
    tqdm = {"TQDM_MININTERVAL": "0", "TQDM_MINITERS": "1"}
    return {**os.environ, "KG_CORPUS_CHUNK": "1", "KG_WIKIDATA_CACHE": str(cache), **tqdm}


def comparable_export(store_path: Path) -> list[bytes]:
    """The store as sorted N-Quads lines, less the run times that differ between any two builds."""
    with Store(store_path, Iris(Settings.base), read_only=True) as store:
        out = store_path.parent / f"{store_path.name}.nq"
        with out.open("wb") as stream:
            export(store, "nquads", stream)
    return sorted(line for line in out.read_bytes().splitlines() if not _VARYING.search(line))


@pytest.fixture(scope="module")
def clean_export(corpus, tmp_path_factory, wikidata_cache) -> list[bytes]:
    """A build never cut short, run the same way (a fresh process: the session's spaCy pipeline,
    used by other tests before, need not tag every article as a fresh one does)."""
    store = tmp_path_factory.mktemp("clean") / "store"
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(corpus), str(store)],
        capture_output=True,
        env=environment(wikidata_cache),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return comparable_export(store)


def reached(output: bytes, point: str) -> bool:
    """Whether the progress bar's output so far shows the kill point."""
    if point in ("start", "middle"):
        return b"corpus: resolving names" in output
    counts = [(int(done), int(total)) for done, total in _WRITING.findall(output)]
    return bool(counts) and counts[-1][0] >= counts[-1][1]


def writer_of(build_pid: int) -> int | None:
    """The writer subprocess of a running build, or None (not started yet, or done)."""
    for task in Path(f"/proc/{build_pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(FileNotFoundError):
                if b"kg.pipeline.writer" in Path(f"/proc/{child}/cmdline").read_bytes():
                    return int(child)
    return None


def cpu_time(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # a zombie holds no files: the store's lock is free


def wait_until_blocked(pid: int) -> None:
    """Until the process stops using the CPU: the writer, its replies unread, waits on a full pipe."""
    last, still = cpu_time(pid), 0
    while still < 3:
        time.sleep(0.1)
        now = cpu_time(pid)
        still, last = (still + 1 if now == last else 0), now
    assert not gone(pid), "the writer finished: the corpus is too small to stop it mid-way"


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def build_and_kill(corpus: Path, store: Path, cache: Path, point: str, victim: str, sig: int):
    """Run a build, send `sig` to the build or its writer at `point` of the corpus stage; its result.

    Writing a chunk takes well under a millisecond, faster than any watcher reacts, so the start and
    the middle are pinned down: the build is stopped (SIGSTOP) the moment its bar names the corpus
    stage. The writer goes on until the replies it sends the stopped build (each chunk written, to be
    checked) fill the pipe between them: it then waits, some chunks written and some not. It is
    stopped there ("middle") or at once ("start"), and the signal is sent to the one or the other.
    The end is not pinned: the signal goes when the bar has counted every chunk.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(corpus), str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(cache),
        # Ctrl-C as a terminal sends it: a suite started in the background of a script (where the shell
        # ignores SIGINT for its jobs, and children inherit that) must still test what SIGINT does
        preexec_fn=_default_sigint,
    )
    seen = b""
    writer = None
    try:
        while not reached(seen, point):
            chunk = os.read(process.stderr.fileno(), 65536)
            assert chunk, f"the build ended before the {point} of its corpus stage: {seen[-2000:]!r}"
            seen += chunk
            # found while the corpus stage runs: at its end the writer may have finished already
            writer = writer or (writer_of(process.pid) if b"corpus:" in seen else None)
        writer = writer or writer_of(process.pid)
        assert writer is not None, "the build has no writer process"
        if point != "end":
            os.kill(process.pid, signal.SIGSTOP)
            if point == "middle":
                wait_until_blocked(writer)
            os.kill(writer, signal.SIGSTOP)
        with contextlib.suppress(ProcessLookupError):  # at the end the writer may be done, and reaped
            os.kill(process.pid if victim == "build" else writer, sig)
        os.kill(process.pid, signal.SIGCONT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    deadline = time.monotonic() + 30
    while not gone(writer):  # a build killed with -9 takes its writer with it
        assert time.monotonic() < deadline, "the writer outlived its build"
        time.sleep(0.05)
    return process.returncode, out.decode(), (seen + err).decode(errors="replace")


# What `kg build` does, through the library, so this file tests build.py whatever the CLI's state:
# the settings from KG_* variables, a tqdm bar that the corpus stage names each step on.
DRIVER = """
import sys
from tqdm import tqdm
from kg.pipeline.build import build, stage_bar
from kg.settings import load_settings
bar = tqdm(unit="article", desc="build", file=sys.stderr)
report = build([sys.argv[1]], load_settings().with_overrides(store=sys.argv[2]), progress=bar.update, stage=stage_bar(bar))
bar.close()
print(report.summary())
sys.exit(0 if report.ok else 1)
"""

CASES = [
    (victim, sig, point)
    for victim, sig in (("build", signal.SIGKILL), ("writer", signal.SIGKILL), ("build", signal.SIGINT))
    for point in ("start", "middle", "end")
]


@pytest.mark.parametrize(("victim", "sig", "point"), CASES, ids=[f"{s.name}-{v}-at-{p}" for v, s, p in CASES])
def test_a_corpus_stage_cut_short_is_finished_by_the_next_build_as_if_never_cut(
    corpus, tmp_path, nlp, wikidata_cache, clean_export, victim, sig, point
):
    store = tmp_path / "store"
    code, _, err = build_and_kill(corpus, store, wikidata_cache, point, victim, sig)
    assert code != 0, "a build whose writer or itself was stopped must not exit 0"
    if victim == "writer":
        assert "the writer process was killed by signal 9 (SIGKILL) during the corpus stage" in err
        assert "'kg build' again finishes the stage" in err
    settings = settings_for(store, wikidata_cache)
    with Store(store, Iris(settings.base), read_only=True) as opened:
        pending = opened.corpus_pending()
    if point != "end":  # at the end the last transaction may have landed before the signal
        assert pending is not None, "the cut stage is marked pending"
        warning = pending_corpus_warning(store, Iris(settings.base))
        assert warning and "did not finish" in warning and "'kg build'" in warning

    report = build([corpus], settings, nlp=nlp)
    assert (report.added, report.unchanged) == (0, len(ARTICLES))
    assert report.ok, report.summary()
    if pending is not None:
        assert report.interrupted == pending and report.entities
        assert f"finished the corpus stage an earlier build began at {pending}" in report.summary()
    assert comparable_export(store) == clean_export
    with Store(store, Iris(settings.base), read_only=True) as opened:
        assert opened.corpus_pending() is None


def started_writer(tmp_path):
    from kg.pipeline.writer import WriterProcess
    from kg.rdf.triples import Provenance
    from kg.store.store import KnownArticles

    return WriterProcess(Settings(store=tmp_path / "store"), KnownArticles(), Provenance.now("test"))


def test_a_writer_killed_while_batches_are_written_is_a_clear_error_not_an_assertion(tmp_path):
    from kg.store.store import StoreError

    writer = started_writer(tmp_path)
    writer.send([])
    writer.process.kill()
    writer.process.wait()
    deadline = time.monotonic() + 10
    with pytest.raises(StoreError) as raised:  # the error comes when the end is read
        while time.monotonic() < deadline:
            writer.drain()
            time.sleep(0.05)
    message = str(raised.value)
    assert "the writer process was killed by signal 9 (SIGKILL) after writing" in message
    assert "of 1 batches of articles" in message and "'kg build' again reads the rest" in message


def test_a_writer_that_ends_without_the_corpus_stage_makes_finish_raise(tmp_path):
    from kg.store.store import StoreError

    writer = started_writer(tmp_path)
    writer.send([])
    writer.process.kill()
    with pytest.raises(StoreError, match="killed by signal 9"):
        list(writer.finish())


def test_validate_and_serve_say_when_a_corpus_stage_never_finished(built_seeds, tmp_path):
    """A store whose corpus stage was cut short does not pass 'kg validate', and 'kg serve' warns of it."""
    from serving import running_server

    store = tmp_path / "kg"
    shutil.copytree(built_seeds, store)
    assert subprocess.run([sys.executable, "-m", "kg", "validate", "--store", str(store)], capture_output=True).returncode == 0
    with Store(store, Iris()) as opened:
        opened.mark_corpus_pending()  # what a build killed in its corpus stage leaves
    cut = subprocess.run([sys.executable, "-m", "kg", "validate", "--store", str(store)], capture_output=True, text=True)
    assert cut.returncode == 1 and "the corpus stage of a build begun" in cut.stderr and "'kg build'" in cut.stderr
    with running_server(store) as server:
        said = "".join(server.output)
    assert "the corpus stage of a build begun" in said and "did not finish" in said
