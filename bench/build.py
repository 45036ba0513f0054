"""Build benchmark: `kg.pipeline.build.build` throughput against raw spaCy, and peak memory as the corpus grows.

What it measures, on real news text (never copied into the repo; read from ``../shared/corpora``):

1. Throughput, on the first ``--articles`` articles of ``--corpus`` (BBC by default):
   (a) raw spaCy, ``nlp.pipe(bodies, n_process=jobs, batch_size=...)`` consuming every doc and counting tokens;
   (b) the full ``build(...)`` (read, spaCy, extract, resolve, RDF, Oxigraph, SHACL validation, corpus
   re-resolution) into a fresh temporary store, on the same texts with the same pipeline, jobs and batch size.
   Both report articles/s and tokens/s; the acceptance figure is build/raw >= 0.8.
2. Memory flatness: builds of ``--memory-sizes`` Reuters-21578 stories (default 100 and 10,000); the
   acceptance figure is peak RSS(largest) / peak RSS(smallest) <= 1.5. With ``--memory-raw``, raw spaCy runs over
   the same stories too, so spaCy's own growth can be told from the build's.

Every measurement runs in a fresh Python subprocess (this script with a private ``--_child`` flag), which loads the
model, does a small untimed spaCy warm-up on other articles, resets its peak-RSS mark (``/proc/self/clear_refs``),
runs, and reports its peak RSS (``VmHWM``: the peak since the reset, so the warm-up's own peak does not hide the
measured one), so no measurement inherits another's memory or caches. The build's writer process (and spaCy's worker processes with
``--jobs > 1``) are reported apart ("writer/workers"), as the largest peak RSS among them, read from /proc. The results name the commit and a hash of the kg source each
measurement imported, so figures can be tied to the code they measured.

Run by hand from the repository root (it is not part of the test suite)::

    python bench/build.py --articles 200 --skip-memory              # quick check, about a minute and a half
    python bench/build.py                                           # 1,000 articles + memory at 100 and 10,000
    python bench/build.py --jobs 2 --json bench/out/build.json      # also write the results as JSON
    python bench/build.py --profile /tmp/build.prof --articles 200  # cProfile one build: where the time goes

The 10,000-article memory build takes over 20 minutes on one core; run it in the background and watch the progress
lines on stderr. ``--timeout SECONDS`` stops a measurement that hangs (with everything it started).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPORA = {
    "bbc": SHARED / "corpora" / "bbc" / "bbc_articles.jsonl",
    "reuters": SHARED / "corpora" / "reuters21578" / "reuters21578.jsonl",
}
RESULT_MARK = "@@bench-result "
WARMUP_ARTICLES = 20
THROUGHPUT_TARGET = 0.8
MEMORY_TARGET = 1.5
MIB = 1024 * 1024


class BenchError(RuntimeError):
    """The benchmark cannot run as asked (missing corpus, too few articles, a failed child)."""


# -- corpora -----------------------------------------------------------------------------------------------------


def _bbc_records() -> Iterator[dict[str, Any]]:
    with CORPORA["bbc"].open(encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                r = json.loads(line)
                yield {"id": r["id"], "title": r.get("title"), "text": r["text"], "category": r.get("category")}


def _reuters_records() -> Iterator[dict[str, Any]]:
    """Reuters stories with a non-empty body, as newskg JSON Lines records (19,043 of 21,578)."""
    with CORPORA["reuters"].open(encoding="utf-8") as stream:
        for line in stream:
            if not line.strip():
                continue
            r = json.loads(line)
            body = r.get("body") or ""
            if body.strip():
                yield {"id": str(r["newid"]), "title": r.get("title") or None, "date": r.get("date"), "text": body}


RECORDS: dict[str, Callable[[], Iterator[dict[str, Any]]]] = {"bbc": _bbc_records, "reuters": _reuters_records}


def check_corpora(names: set[str]) -> None:
    missing = [str(CORPORA[n]) for n in sorted(names) if not CORPORA[n].is_file()]
    if missing:
        raise BenchError(
            f"corpus not found: {', '.join(missing)}\n"
            f"The benchmark reads real corpora from {SHARED} (next to the repository, never copied into it)."
        )


def write_corpus(corpus: str, count: int, path: Path) -> tuple[int, int]:
    """The first `count` distinct articles of a corpus as a JSON Lines file; returns (articles, characters).

    Repeated texts are left out (BBC has 133, Reuters 262): `build` would skip them as already stored while raw
    spaCy would parse them, and the two runs would no longer read the same texts.
    """
    written = chars = 0
    seen: set[str] = set()
    with path.open("w", encoding="utf-8") as out:
        for record in RECORDS[corpus]():
            if written == count:
                break
            if record["text"] in seen:
                continue
            seen.add(record["text"])
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
            chars += len(record["text"])
    if written < count:
        raise BenchError(f"{corpus} has only {written:,} distinct articles, {count:,} asked for")
    return written, chars


def write_warmup(corpus: str, path: Path) -> None:
    """A few articles from the end of the corpus, for the untimed warm-up (kept apart from the measured ones)."""
    tail = list({r["text"]: r for r in RECORDS[corpus]()}.values())[-WARMUP_ARTICLES:]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in tail), encoding="utf-8")


# -- one measurement, in a child process -------------------------------------------------------------------------


@dataclass
class Spec:
    """What a child process measures."""

    kind: str  # "raw", "build" or "profile"
    label: str
    input: str
    warmup: str
    jobs: int
    batch_size: int
    model: str | None
    store: str = ""
    batch_chars: int = 0  # 0: the build's default
    progress_every: int = 100
    profile_out: str = ""


@dataclass
class Result:
    """What a child process measured. Memory is in MiB; peak RSS is the child's own, workers apart."""

    label: str
    kind: str
    articles: int = 0
    tokens: int = 0
    seconds: float = 0.0
    model: str = ""
    kg_source: str = ""
    load_seconds: float = 0.0
    rss_ready_mib: float = 0.0
    peak_rss_mib: float = 0.0
    worker_peak_rss_mib: float = 0.0
    mentions: int | None = None
    quads: int | None = None
    entities: int | None = None
    conforms: bool | None = None
    errors: int | None = None
    store_mib: float | None = None
    loadavg_start: float = 0.0
    loadavg_end: float = 0.0
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def articles_per_s(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def _maxrss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss * 1024 / MIB  # Linux reports KiB


def _status_mib(field: str, pid: int | str = "self") -> float | None:
    """A memory figure of a process from /proc/PID/status (VmRSS, VmHWM), or None (gone, or not Linux)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024 / MIB
    return None


def _reset_peak_rss() -> bool:
    """Start this process's peak RSS (VmHWM) afresh from its current RSS; False where Linux does not let us."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_mib(reset: bool) -> float:
    """Peak RSS since the reset if there was one, else since the process started."""
    hwm = _status_mib("VmHWM") if reset else None
    return hwm if hwm is not None else _maxrss_mib(resource.RUSAGE_SELF)


class ChildPeaks:
    """The largest VmHWM (peak RSS since exec) of this process's children, sampled on a thread.

    ru_maxrss of RUSAGE_CHILDREN is no good for a subprocess started from a large parent: Linux
    counts the forked copy of the parent before exec, so a small writer reports the build's size.
    VmHWM in /proc belongs to the program after exec. A child's last fraction of a second may be
    missed between samples.
    """

    def __init__(self, every: float = 0.1) -> None:
        self.every = every
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ChildPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _children(self) -> list[int]:
        pids: list[int] = []
        for task in Path(f"/proc/{os.getpid()}/task").iterdir():
            with contextlib.suppress(OSError):
                pids += [int(p) for p in (task / "children").read_text().split()]
        return pids

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            for pid in self._children():
                peak = _status_mib("VmHWM", pid)
                if peak is not None:
                    self.peaks[pid] = max(self.peaks.get(pid, 0.0), peak)

    @property
    def largest(self) -> float:
        return max(self.peaks.values(), default=0.0)


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Ticker:
    """Progress lines every `every` articles: count, elapsed time, rate."""

    def __init__(self, label: str, total: int, every: int) -> None:
        self.label, self.total, self.every = label, total, max(1, every)
        self.done = 0
        self.started = time.perf_counter()
        self.next_line = self.every

    def __call__(self, n: int) -> None:
        self.done += n
        if self.done >= self.next_line or self.done == self.total:
            elapsed = time.perf_counter() - self.started
            rate = self.done / elapsed if elapsed else 0.0
            _say(f"  {self.label}: {self.done:,}/{self.total:,} articles, {elapsed:.0f}s, {rate:.1f} articles/s")
            while self.next_line <= self.done:
                self.next_line += self.every


def _bodies(path: str) -> list[str]:
    """Article bodies exactly as `build` hands them to spaCy."""
    from kg.article.read import Article, read_articles

    return [a.text[a.body_start :] for a in read_articles([path]) if isinstance(a, Article)]


def kg_fingerprint() -> str:
    """A short hash of the kg package's source as this process imported it, to tie figures to code."""
    import kg

    digest = hashlib.sha256()
    for path in sorted(Path(kg.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def git_state() -> str:
    """The commit checked out, and whether kg/ has changes not committed."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "kg"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + (" (kg/ has uncommitted changes)" if dirty.stdout.strip() else "")


def _dir_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / MIB


def run_child(spec: Spec) -> Result:
    from kg.article.extract import load_pipeline, model_description
    from kg.settings import choose_model

    started = time.perf_counter()
    nlp = load_pipeline(choose_model(spec.model))
    for _ in nlp.pipe(_bodies(spec.warmup), batch_size=spec.batch_size):
        pass
    result = Result(label=spec.label, kind=spec.kind, model=model_description(nlp), kg_source=kg_fingerprint())
    result.load_seconds = time.perf_counter() - started
    reset = _reset_peak_rss()
    result.rss_ready_mib = (_status_mib("VmRSS") if reset else None) or _maxrss_mib(resource.RUSAGE_SELF)
    result.loadavg_start = os.getloadavg()[0]

    if spec.kind == "raw":
        bodies = _bodies(spec.input)
        tick = Ticker(spec.label, len(bodies), spec.progress_every)
        started = time.perf_counter()
        for doc in nlp.pipe(bodies, n_process=spec.jobs, batch_size=spec.batch_size):
            result.tokens += len(doc)
            tick(1)
        result.seconds = time.perf_counter() - started
        result.articles = len(bodies)
    else:
        from kg.pipeline.build import build
        from kg.settings import Settings

        settings = Settings(store=Path(spec.store), model=spec.model, jobs=spec.jobs, batch_size=spec.batch_size)
        if spec.batch_chars:
            settings = settings.with_overrides(batch_chars=spec.batch_chars)
        with open(spec.input, "rb") as stream:
            total = sum(1 for line in stream if line.strip())
        tick = Ticker(spec.label, total, spec.progress_every)
        profiler = None
        if spec.kind == "profile":
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        with ChildPeaks() as children:
            report = build([spec.input], settings, nlp=nlp, progress=tick)
        result.seconds = time.perf_counter() - started
        result.worker_peak_rss_mib = children.largest
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(spec.profile_out)
            result.profile = summarise_profile(spec.profile_out, result.seconds)
        result.articles = report.added
        result.tokens = report.tokens
        result.mentions = report.mentions
        result.quads = report.quads
        result.entities = report.entities
        result.conforms = None if report.validation is None else report.validation.conforms
        result.errors = len(report.errors)
        result.store_mib = _dir_mib(Path(spec.store))
    result.loadavg_end = os.getloadavg()[0]
    result.peak_rss_mib = _peak_rss_mib(reset)
    if spec.kind == "raw":
        result.worker_peak_rss_mib = _maxrss_mib(resource.RUSAGE_CHILDREN) if spec.jobs > 1 else 0.0
    return result


def measure(spec: Spec, timeout: float | None = None) -> Result:
    """Run one measurement in a fresh interpreter; its progress lines go straight to our stderr.

    The child gets its own process group, so on a timeout, Ctrl-C or SIGTERM it goes together with any processes
    it started (spaCy workers, a writer process) instead of leaving them behind.
    """
    _say(f"{spec.label}: starting ({spec.kind}, jobs={spec.jobs})")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", json.dumps(asdict(spec))]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True)
    try:
        stdout, _ = child.communicate(timeout=timeout)
    except BaseException as exc:  # timeout, Ctrl-C, SIGTERM: stop the whole group (not reaped yet, so still ours)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise BenchError(f"{spec.label}: no result after {timeout:.0f}s (see --timeout); stopped it") from None
        raise
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_MARK)]
    other = [line for line in stdout.splitlines() if not line.startswith(RESULT_MARK)]
    if other:
        print("\n".join(other), file=sys.stderr, flush=True)
    if child.returncode != 0 or not lines:
        raise BenchError(f"{spec.label}: the measuring process failed (exit code {child.returncode}); see above")
    result = Result(**json.loads(lines[-1][len(RESULT_MARK) :]))
    _say(
        f"{spec.label}: {result.articles:,} articles, {result.tokens:,} tokens in {result.seconds:.1f}s "
        f"({result.articles_per_s:.1f} articles/s, {result.tokens_per_s:,.0f} tokens/s), "
        f"peak RSS {result.peak_rss_mib:,.0f} MiB"
    )
    return result


# -- profile summary ---------------------------------------------------------------------------------------------

#: Build phases worth naming: (label, file suffix, function, depth). Nested rows overlap their parent; a row whose
#: function the profiled code does not have is left out.
PHASES = (
    ("spaCy nlp.pipe (in build)", "spacy/language.py", "pipe", 0),
    ("extract (candidates + resolve_article)", "kg/article/extract.py", "extract", 0),
    ("WriterProcess.send (handing batches over)", "kg/pipeline/writer.py", "send", 0),
    ("WriterProcess.finish (waiting for the corpus stage)", "kg/pipeline/writer.py", "finish", 0),
    ("validate_nquads (checking the corpus chunks the writer hands over)", "kg/validate/check.py", "validate_nquads", 1),
)
#: The writer process (RDF, SHACL, storage, the corpus stage) is not in the profile: it runs alongside.


def summarise_profile(path: str, wall: float, top: int = 25) -> dict[str, Any]:
    import pstats

    stats: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = pstats.Stats(path).stats  # type: ignore[attr-defined]
    builds = [
        ct for (file, _, name), (_, _, _, ct, _) in stats.items() if name == "build" and file.endswith("kg/pipeline/build.py")
    ]
    total = max(builds, default=wall)
    phases = []
    for label, suffix, func, depth in PHASES:
        found = [ct for (file, _, name), (_, _, _, ct, _) in stats.items() if name == func and file.endswith(suffix)]
        if found:
            cum = sum(found)
            phases.append({"label": label, "depth": depth, "seconds": cum, "share": cum / total if total else 0.0})
    by_own = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    functions = [
        {
            "function": f"{_short_path(file)}:{line}({name})",
            "calls": nc,
            "own_seconds": tt,
            "cum_seconds": ct,
            "own_share": tt / total if total else 0.0,
        }
        for (file, line, name), (_, nc, tt, ct, _) in by_own
    ]
    return {"profiled_seconds": total, "phases": phases, "top_own_time": functions}


def _short_path(file: str) -> str:
    for marker in ("site-packages/", "/kg/"):
        if marker in file:
            return ("kg/" if marker == "/kg/" else "") + file.split(marker, 1)[1]
    return file


# -- report ------------------------------------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [
        "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True)))
    ]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append(
            "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        )
    return "\n".join(lines)


def _run_row(r: Result) -> list[str]:
    return [
        r.label,
        f"{r.articles:,}",
        f"{r.tokens:,}",
        f"{r.seconds:.1f}",
        f"{r.articles_per_s:.2f}",
        f"{r.tokens_per_s:,.0f}",
        f"{r.rss_ready_mib:,.0f}",
        f"{r.peak_rss_mib:,.0f}",
        f"{r.worker_peak_rss_mib:,.0f}" if r.worker_peak_rss_mib else "-",
        f"{r.loadavg_start:.2f}/{r.loadavg_end:.2f}",
    ]


RUN_HEADERS = [
    "run",
    "articles",
    "tokens",
    "seconds",
    "articles/s",
    "tokens/s",
    "RSS ready MiB",
    "peak RSS MiB",
    "writer/workers MiB",
    "load 1m start/end",
]


def _fingerprints(results: dict[str, Any]) -> str:
    """The kg source hashes the runs saw; more than one means kg/ changed during the benchmark."""
    runs = []
    if "throughput" in results:
        runs += [r for p in results["throughput"].get("pairs", []) for r in (p["raw"], p["build"])]
    if "memory" in results:
        runs += results["memory"]["runs"] + results["memory"].get("raw_runs", [])
    if "profile" in results:
        runs.append(results["profile"])
    seen = sorted({r.get("kg_source", "") for r in runs} - {""})
    if len(seen) > 1:
        return ", ".join(seen) + " (kg/ CHANGED during the run: figures are not comparable)"
    return seen[0] if seen else "-"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report_text(results: dict[str, Any]) -> str:
    out = [
        "newskg build benchmark",
        f"model {results['model']}, jobs={results['jobs']}, batch_size={results['batch_size']}, "
        f"batch_chars={results.get('batch_chars') or 'default'}, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
        f"code: {results.get('git', 'unknown')}; kg source as measured: {_fingerprints(results)}",
    ]
    tp = results.get("throughput")
    if tp:
        raw, built = Result(**tp["raw"]), Result(**tp["build"])
        pairs = [(Result(**p["raw"]), Result(**p["build"])) for p in tp.get("pairs", [tp])]
        out += [
            "",
            f"Throughput: first {tp['articles']:,} articles of {tp['corpus']} ({tp['chars']:,} characters of text)",
            _table(RUN_HEADERS, [_run_row(r) for pair in pairs for r in pair]),
            f"build/raw, tokens/s, each pair: {', '.join(f'{x:.3f}' for x in tp.get('ratios', [tp['ratio_tokens']]))}",
            f"build/raw, tokens/s (median):   {tp['ratio_tokens']:.3f}  (target >= {THROUGHPUT_TARGET}: "
            f"{_verdict(tp['ratio_tokens'] >= THROUGHPUT_TARGET)})",
            f"build/raw, articles/s:          {tp['ratio_articles']:.3f}",
            f"build beyond spaCy: {built.seconds - raw.seconds:.1f}s "
            f"({(built.seconds - raw.seconds) / built.seconds:.0%} of the build)",
            f"build output: {built.mentions:,} mentions, {built.quads:,} quads, {built.entities:,} entities, "
            f"SHACL conforms: {built.conforms}, read errors: {built.errors}, store {built.store_mib:,.1f} MiB",
        ]
        if raw.tokens != built.tokens or raw.articles != built.articles:
            out.append(
                f"note: the runs read different texts: raw {raw.articles:,} articles, {raw.tokens:,} tokens; "
                f"build {built.articles:,} articles, {built.tokens:,} tokens"
            )
    mem = results.get("memory")
    if mem:
        runs = [Result(**r) for r in mem["runs"]]
        raws = [Result(**r) for r in mem.get("raw_runs", [])]
        rows = [
            [*_run_row(r)[:9], f"{r.peak_rss_mib - r.rss_ready_mib:,.0f}", f"{r.store_mib or 0:,.1f}"]
            for r in [*raws, *runs]
        ]
        out += [
            "",
            f"Memory: builds of the first N distinct stories of {mem['corpus']} (each in a fresh process)",
            _table([*RUN_HEADERS[:9], "growth MiB", "store MiB"], rows),
            f"build process peak RSS {runs[-1].articles:,} / {runs[0].articles:,} articles: {mem['ratio']:.3f}"
            + (
                ""
                if mem.get("worker_ratio")
                else f"  (target <= {MEMORY_TARGET}: {_verdict(mem['ratio'] <= MEMORY_TARGET)})"
            ),
        ]
        if mem.get("worker_ratio"):
            total_ok = mem["total_ratio"] <= MEMORY_TARGET
            out += [
                f"writer process peak RSS, same: {mem['worker_ratio']:.3f}",
                f"both processes, sum of peaks, same: {mem['total_ratio']:.3f}  "
                f"(the target, <= {MEMORY_TARGET}: {_verdict(total_ok)})",
            ]
        if raws:
            out.append(
                f"raw spaCy peak RSS {raws[-1].articles:,} / {raws[0].articles:,} articles: {mem['raw_ratio']:.3f}"
            )
        out.append("growth = peak RSS - RSS once the model is loaded and warmed up")
    prof = results.get("profile")
    if prof:
        total = prof["profiled_seconds"]
        out += [
            "",
            f"Profile: build of {prof['articles']:,} articles of {prof['corpus']} under cProfile, {total:.1f}s "
            f"(profiler overhead inflates Python-heavy code); stats in {prof['file']}",
            _table(
                ["phase (cumulative; indented rows are part of the row above)", "seconds", "share"],
                [["  " * p["depth"] + p["label"], f"{p['seconds']:.1f}", f"{p['share']:.1%}"] for p in prof["phases"]],
            ),
            "The writer validates each batch of articles; the build's process validates the corpus chunks while the",
            "writer makes and writes the next ones.",
            "",
            _table(
                ["function (top by own time)", "calls", "own s", "own share", "cum s"],
                [
                    [
                        f["function"],
                        f"{f['calls']:,}",
                        f"{f['own_seconds']:.2f}",
                        f"{f['own_share']:.1%}",
                        f"{f['cum_seconds']:.2f}",
                    ]
                    for f in prof["top_own_time"]
                ],
            ),
        ]
    return "\n".join(out)


# -- main --------------------------------------------------------------------------------------------------------


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(s) for s in text.split(",") if s.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated article counts, got {text!r}") from None
    if len(sizes) < 2 or sizes[0] < 1:
        raise argparse.ArgumentTypeError("give at least two positive sizes, e.g. 100,10000")
    return sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--articles", type=int, default=1000, help="articles for the throughput runs (default 1000)")
    p.add_argument("--corpus", choices=sorted(CORPORA), default="bbc", help="throughput corpus (default bbc)")
    p.add_argument("--jobs", type=int, default=1, help="spaCy processes, the same for raw and build (default 1)")
    p.add_argument("--batch-size", type=int, default=32, help="nlp.pipe batch size for both (default 32)")
    p.add_argument("--batch-chars", type=int, default=0, help="the build's --batch-chars (default: its own default)")
    p.add_argument("--repeat", type=int, default=5, help="raw/build pairs, order alternating; median ratio (default 5)")
    p.add_argument("--model", default=None, help="spaCy pipeline (default: the one newskg would choose)")
    p.add_argument("--memory-sizes", type=_sizes, default=[100, 10000], help="Reuters build sizes (default 100,10000)")
    p.add_argument("--memory-raw", action="store_true", help="also raw spaCy at each memory size (spaCy's own growth)")
    p.add_argument("--skip-memory", action="store_true", help="only the throughput runs")
    p.add_argument("--skip-throughput", action="store_true", help="only the memory runs")
    p.add_argument("--profile", metavar="FILE", help="instead: cProfile one build of --articles, stats to FILE")
    p.add_argument("--progress-every", type=int, default=100, help="a progress line every N articles (default 100)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="give up on a measurement after this long")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--workdir", help="where temp corpora and stores go (default: a new temp dir, removed after)")
    p.add_argument("--_child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.articles < 1 or args.jobs < 1 or args.batch_size < 1 or args.batch_chars < 0:
        p.error("--articles, --jobs and --batch-size must be positive, --batch-chars not negative")
    return args


def run_throughput(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Raw spaCy and the full build on the same articles, each in a fresh process; --repeat pairs.

    The machine's speed drifts by several per cent from minute to minute (other tenants), so one pair can mislead:
    the verdict is on the median of the pairs' ratios, each pair run back to back. The order within a pair
    alternates (raw then build, build then raw, ...), so a steady drift favours neither side.
    """
    path, warm = work / f"{args.corpus}-{args.articles}.jsonl", work / f"{args.corpus}-warmup.jsonl"
    _, chars = write_corpus(args.corpus, args.articles, path)
    write_warmup(args.corpus, warm)
    pairs = []
    for n in range(1, args.repeat + 1):
        tag = f" #{n}" if args.repeat > 1 else ""
        store = work / f"store-throughput-{n}"
        specs = [
            _spec(args, "raw", f"raw spaCy{tag}", path, warm),
            _spec(args, "build", f"build{tag}", path, warm, store=store),
        ]
        measured = {spec.kind: measure(spec, args.timeout) for spec in (specs if n % 2 else specs[::-1])}
        raw, built = measured["raw"], measured["build"]
        shutil.rmtree(store, ignore_errors=True)
        pairs.append((raw, built))
    ratios = sorted(b.tokens_per_s / r.tokens_per_s for r, b in pairs)
    median = (
        ratios[len(ratios) // 2] if len(ratios) % 2 else sum(ratios[len(ratios) // 2 - 1 : len(ratios) // 2 + 1]) / 2
    )
    raw, built = pairs[-1]
    return {
        "corpus": args.corpus,
        "articles": args.articles,
        "chars": chars,
        "raw": asdict(raw),
        "build": asdict(built),
        "pairs": [{"raw": asdict(r), "build": asdict(b)} for r, b in pairs],
        "ratios": ratios,
        "ratio_tokens": median,
        "ratio_articles": median * (built.articles / built.tokens) / (raw.articles / raw.tokens),
    }


def run_memory(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Builds of growing Reuters prefixes, each in a fresh process, compared by peak RSS.

    With --memory-raw, raw spaCy runs over the same prefixes too, to tell spaCy's own growth from the build's.
    """
    warm = work / "reuters-warmup.jsonl"
    write_warmup("reuters", warm)
    runs, raw_runs = [], []
    for size in args.memory_sizes:
        path = work / f"reuters-{size}.jsonl"
        write_corpus("reuters", size, path)
        every = max(args.progress_every, size // 20)
        if args.memory_raw:
            raw_runs.append(measure(_spec(args, "raw", f"raw spaCy {size}", path, warm, every=every), args.timeout))
        spec = _spec(args, "build", f"build {size}", path, warm, store=work / f"store-memory-{size}", every=every)
        runs.append(measure(spec, args.timeout))
    first, last = runs[0], runs[-1]
    found: dict[str, Any] = {
        "corpus": "reuters",
        "runs": [asdict(r) for r in runs],
        "ratio": last.peak_rss_mib / first.peak_rss_mib,
        # The writer process (and spaCy's workers with --jobs > 1) count too: their peaks, and the sum of all peaks.
        "worker_ratio": (last.worker_peak_rss_mib / first.worker_peak_rss_mib) if first.worker_peak_rss_mib else None,
        "total_ratio": (last.peak_rss_mib + last.worker_peak_rss_mib)
        / (first.peak_rss_mib + first.worker_peak_rss_mib),
    }
    if raw_runs:
        found["raw_runs"] = [asdict(r) for r in raw_runs]
        found["raw_ratio"] = raw_runs[-1].peak_rss_mib / raw_runs[0].peak_rss_mib
    return found


def run_profile(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """One build under cProfile, summarised by phase and by function."""
    path, warm = work / f"{args.corpus}-{args.articles}.jsonl", work / f"{args.corpus}-warmup.jsonl"
    write_corpus(args.corpus, args.articles, path)
    write_warmup(args.corpus, warm)
    out = Path(args.profile).resolve()
    spec = _spec(args, "profile", f"profiled build {args.articles}", path, warm, store=work / "store-profile")
    spec.profile_out = str(out)
    r = measure(spec, args.timeout)
    return {
        "corpus": args.corpus,
        "articles": r.articles,
        "file": str(out),
        "model": r.model,
        "kg_source": r.kg_source,
        **r.profile,
    }


def _spec(
    args: argparse.Namespace, kind: str, label: str, path: Path, warm: Path, store: Path | None = None, every: int = 0
) -> Spec:
    return Spec(
        kind=kind,
        label=label,
        input=str(path),
        warmup=str(warm),
        jobs=args.jobs,
        batch_size=args.batch_size,
        batch_chars=args.batch_chars,
        model=args.model,
        store=str(store or ""),
        progress_every=every or args.progress_every,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args._child:
        result = run_child(Spec(**json.loads(args._child)))
        print(RESULT_MARK + json.dumps(asdict(result)), flush=True)
        return 0

    # On SIGTERM, unwind like Ctrl-C: `measure` stops the running child's process group, the temp folder goes.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    needed = set()
    if args.profile or not args.skip_throughput:
        needed.add(args.corpus)
    if not args.profile and not args.skip_memory:
        needed.add("reuters")
    if not needed:
        raise BenchError("nothing to do: --skip-throughput and --skip-memory together")
    check_corpora(needed)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="kg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "jobs": args.jobs,
        "batch_size": args.batch_size,
        "batch_chars": args.batch_chars or None,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git": git_state(),
    }
    try:
        if args.profile:
            results["profile"] = run_profile(args, work)
            results["model"] = results["profile"]["model"]
        else:
            if not args.skip_throughput:
                results["throughput"] = run_throughput(args, work)
                results["model"] = results["throughput"]["raw"]["model"]
            if not args.skip_memory:
                results["memory"] = run_memory(args, work)
                results["model"] = results["memory"]["runs"][0]["model"]
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    print(report_text(results))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
