"""Wikidata index benchmark: `kg wikidata index` on a generated dump in the real dump's format, and lookups.

Why generated: the real dump (about 110M entities, 1.5 TB of JSON) cannot be downloaded here, and a
benchmark must be repeatable. The generator writes entities line by line exactly as
`latest-all.json` does (`[`, one entity per line ending in `,`, `]`; labels, descriptions and
aliases in several languages, statements with ranks, qualifiers and references, sitelinks), in a
mix like the real dump's: most entities are of no interest to news (scholarly articles, taxa,
categories, stars, genes), about one in five is a person, organisation, place or event of the
default class filter, some places have only a subclass the default filter does not know, and some
items have no English label.

What it measures (run by hand, not in the test suite):

1. Decompression alone: Python's gzip and bz2 (what `kg wikidata index` uses on a file), and the
   `gzip`, `bzip2`, `pigz`, `lbzip2` programs where installed, on the same generated data; MB/s of
   decompressed JSON.
2. `kg wikidata index` on the generated dump (`.json.gz`, also plain): items/s, MB/s of JSON, peak
   RSS of the command and its worker processes, and the projected time for the full dump
   (assumptions printed: 110M entities, 1.5 TB of JSON, 130 GB compressed).
3. Resuming: the same build killed halfway and continued with `--resume`: the time the resumed run
   spends re-reading (decompressing) up to where it stopped.
4. Lookups against an index of `--lookup-items` (5M) generated items: ms per entity through
   `LocalIndex.find` and through the linker (`kg.corpus.link.link`), with a freshly opened index (cold:
   the OS page cache is not dropped, so "cold" means a new connection, not a cold disk) and warm.

    python bench/wikidata_index.py                          # 1M-entity dump, 5M-item lookup index (about 40 min)
    python bench/wikidata_index.py --entities 100000 --lookup-items 200000 --workdir /tmp/wdbench   # quick
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.corpus.link import LinkConfig, LinkQuery, link  # noqa: E402
from kg.wikidata.index import LocalIndex, build_index  # noqa: E402
from kg.wikidata.index import partial_path as index_partial  # noqa: E402
from kg.wikidata.items import Item, popularity_from_sitelinks, write_items  # noqa: E402
from kg.wikidata.names import key  # noqa: E402

MB = 1e6
#: The full dump, as assumed for the projection (Wikidata's own figures move; see bench/README.md).
FULL_ENTITIES = 110e6
FULL_JSON_BYTES = 1.5e12
FULL_COMPRESSED_BYTES = 130e9

LANGS = ("en", "de", "fr", "es", "it", "nl", "pl", "ru", "ja", "zh", "pt", "sv", "uk", "ar", "ca", "cs", "fi", "he")
SYLLABLES = (
    "an",
    "ber",
    "co",
    "da",
    "el",
    "fa",
    "gor",
    "hi",
    "is",
    "ja",
    "ka",
    "lo",
    "mi",
    "no",
    "or",
    "pe",
    "ra",
    "san",
    "to",
    "ul",
    "va",
    "wen",
    "xi",
    "yo",
    "zu",
    "ton",
    "ville",
    "burg",
    "stein",
    "berg",
    "mar",
    "lin",
)
GIVEN = ("John", "Maria", "Ahmed", "Li", "Anna", "Pierre", "Olga", "Kenji", "Fatima", "Carlos", "Emma", "Ivan")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the generated dump -----------------------------------------------------------------------------------------


class Generator:
    """Entities in the real dump's JSON, built from strings (json.dumps of nested dicts would be 5x slower)."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.statement = 0

    def word(self) -> str:
        r = self.rng
        return "".join(r.choice(SYLLABLES) for _ in range(r.randint(2, 4))).capitalize()

    def hash(self) -> str:
        return f"{self.rng.getrandbits(160):040x}"

    @staticmethod
    def _mono(lang: str, value: str) -> str:
        return f'"{lang}":{{"language":"{lang}","value":{json.dumps(value, ensure_ascii=False)}}}'

    def terms(self, label: str, langs: list[str]) -> str:
        return "{" + ",".join(self._mono(lang, label) for lang in langs) + "}"

    def snak(self, prop: str, datavalue: str, datatype: str) -> str:
        return (
            f'{{"snaktype":"value","property":"{prop}","hash":"{self.hash()}",'
            f'"datavalue":{datavalue},"datatype":"{datatype}"}}'
        )

    @staticmethod
    def item_value(q: int) -> str:
        return f'{{"value":{{"entity-type":"item","numeric-id":{q},"id":"Q{q}"}},"type":"wikibase-entityid"}}'

    def reference(self) -> str:
        snak = self.snak("P143", self.item_value(self.rng.choice((328, 8447, 48183, 206855))), "wikibase-item")
        return f'{{"hash":"{self.hash()}","snaks":{{"P143":[{snak}]}},"snaks-order":["P143"]}}'

    def claim(self, qid: str, prop: str, datavalue: str, datatype: str, rank: str = "normal", refs: int = 1) -> str:
        self.statement += 1
        references = ',"references":[' + ",".join(self.reference() for _ in range(refs)) + "]" if refs else ""
        return (
            f'{{"mainsnak":{self.snak(prop, datavalue, datatype)},"type":"statement",'
            f'"id":"{qid}${self.statement:08X}-0000-4000-8000-{self.hash()[:12]}","rank":"{rank}"{references}}}'
        )

    def items(self, qid: str, prop: str, targets: list[int], refs: int = 1) -> str:
        body = ",".join(self.claim(qid, prop, self.item_value(t), "wikibase-item", refs=refs) for t in targets)
        return f'"{prop}":[{body}]'

    def external_ids(self, qid: str, n: int) -> list[str]:
        out = []
        for i in range(n):
            value = f'{{"value":"{self.rng.getrandbits(40):x}","type":"string"}}'
            out.append(f'"P{214 + 13 * i}":[{self.claim(qid, f"P{214 + 13 * i}", value, "external-id", refs=0)}]')
        return out

    def time(self, qid: str, prop: str, year: int) -> str:
        value = (
            f'{{"value":{{"time":"+{year:04d}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}T00:00:00Z",'
            f'"timezone":0,"before":0,"after":0,"precision":11,"calendarmodel":"http://www.wikidata.org/entity/Q1985727"}},'
            f'"type":"time"}}'
        )
        return f'"{prop}":[{self.claim(qid, prop, value, "time")}]'

    def coordinates(self, qid: str) -> str:
        r = self.rng
        value = (
            f'{{"value":{{"latitude":{r.uniform(-60, 70):.5f},"longitude":{r.uniform(-180, 180):.5f},"altitude":null,'
            f'"precision":0.0001,"globe":"http://www.wikidata.org/entity/Q2"}},"type":"globecoordinate"}}'
        )
        return f'"P625":[{self.claim(qid, "P625", value, "globe-coordinate")}]'

    def sitelinks(self, title: str, n: int) -> str:
        wikis = [f"{lang}wiki" for lang in LANGS] + [f"x{i}wiki" for i in range(400)]
        body = ",".join(f'"{w}":{{"site":"{w}","title":{json.dumps(title)},"badges":[]}}' for w in wikis[:n])
        return "{" + body + "}"

    def sitelink_count(self, famous: float = 0.0) -> int:
        """Heavy-tailed, as in the real dump: most items have 0 to 2, a few hundreds."""
        r = self.rng
        if r.random() < famous:
            return r.randint(100, 320)
        return min(320, int(r.paretovariate(1.3)) - 1 + (r.random() < 0.4))

    def entity(self, number: int) -> tuple[str, bool]:
        """One entity line (without the trailing comma) and whether the default class filter keeps it."""
        r = self.rng
        qid = f"Q{number}"
        roll = r.random()
        english = r.random() < 0.85
        langs = r.sample(LANGS[1:], r.randint(1, 8))
        if english:
            langs = ["en", *langs]
        aliases = ""
        extra: list[str] = []
        if roll < 0.36:  # scholarly article: the largest share of the real dump, never kept
            kind, classes, kept = "article", [13442814], False
            label = " ".join(self.word().lower() for _ in range(r.randint(4, 12))).capitalize()
            langs = ["en"]
            description = self.terms("scientific article published in 2019", LANGS[: r.randint(3, 18)])
            authors = [r.randint(1, 90_000_000) for _ in range(r.randint(1, 12))]
            cites = [r.randint(1, 90_000_000) for _ in range(r.randint(0, 40))]
            extra = [
                self.items(qid, "P50", authors),
                self.items(qid, "P2860", cites, refs=0),
                self.time(qid, "P577", r.randint(1950, 2024)),
                *self.external_ids(qid, 3),
            ]
            links = 0
        elif roll < 0.47:  # people
            kind, classes, kept = "human", [5], english
            label = f"{r.choice(GIVEN)} {self.word()}"
            description = self.terms("politician", langs[:3])
            extra = [
                self.items(qid, "P21", [6581097]),
                self.items(qid, "P27", [r.choice((30, 183, 142, 145, 884))]),
                self.time(qid, "P569", r.randint(1800, 2005)),
                self.items(qid, "P106", [82955, 36180]),
                self.items(qid, "P102", [r.choice((29552, 29468))]),
                *self.external_ids(qid, r.randint(2, 12)),
            ]
            links = self.sitelink_count(0.01)
        elif roll < 0.55:  # places: most of a class the default filter knows, some only of a subclass
            kept = english and r.random() < 0.7
            kind, classes = "place", [r.choice((532, 486972, 515, 3957))] if kept else [3558970]
            label = self.word()
            description = self.terms("village", langs[:2])
            extra = [
                self.items(qid, "P17", [r.choice((30, 183, 142, 36))]),
                self.coordinates(qid),
                self.items(qid, "P131", [r.randint(1, 9_000_000)]),
                *self.external_ids(qid, r.randint(1, 4)),
            ]
            links = self.sitelink_count(0.01)
        elif roll < 0.58:  # organisations
            kind, classes, kept = "organisation", [r.choice((4830453, 43229, 3918))], english
            label = f"{self.word()} {r.choice(('Group', 'University', 'Bank', 'Party', 'Press'))}"
            description = self.terms("organisation", langs[:2])
            extra = [self.items(qid, "P17", [r.choice((30, 183, 142))]), *self.external_ids(qid, r.randint(1, 5))]
            links = self.sitelink_count(0.01)
        elif roll < 0.59:  # events
            kind, classes, kept = "event", [r.choice((40231, 178561))], english
            label = f"{r.randint(1900, 2024)} {self.word()} election"
            description = self.terms("election", langs[:2])
            extra = [self.items(qid, "P17", [r.choice((30, 183))]), self.time(qid, "P585", r.randint(1900, 2024))]
            links = self.sitelink_count(0.02)
        else:  # taxa, categories, stars, genes, paintings, streets...: never kept
            kind, classes, kept = "other", [r.choice((16521, 4167836, 523, 7187, 3305213, 79007))], False
            label = self.word()
            description = self.terms("Wikimedia category", langs[: r.randint(1, 6)])
            extra = [self.items(qid, "P17", [r.choice((30, 183))]), *self.external_ids(qid, r.randint(0, 6))]
            links = self.sitelink_count()
        if kind in ("human", "organisation", "place") and english and r.random() < 0.4:
            values = ",".join(
                f'{{"language":"en","value":{json.dumps(self.word() + " " + label)}}}' for _ in range(r.randint(1, 3))
            )
            aliases = f'"en":[{values}]'
        claims = ",".join([self.items(qid, "P31", classes), *extra])
        line = (
            f'{{"type":"item","id":"{qid}","labels":{self.terms(label, langs)},"descriptions":{description},'
            f'"aliases":{{{aliases}}},"claims":{{{claims}}},"sitelinks":{self.sitelinks(label, links)},'
            f'"pageid":{number + 100},"ns":0,"title":"{qid}","lastrevid":{2_000_000_000 + number},'
            f'"modified":"2024-05-01T00:00:00Z"}}'
        )
        return line, kept


def write_dump(path: Path, entities: int, seed: int = 7) -> tuple[int, int]:
    """A plain `latest-all.json`-style dump of `entities` entities; returns (bytes of JSON, entities kept)."""
    gen = Generator(seed)
    kept = 0
    size = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for i in range(entities):
            line, keep = gen.entity(1000 + i * 7)
            kept += keep
            end = ",\n" if i < entities - 1 else "\n"
            out.write(line + end)
            size += len(line) + len(end)
        out.write("]\n")
    return path.stat().st_size, kept


# -- measuring --------------------------------------------------------------------------------------------------


class PeakRss:
    """The largest RSS of a process and its descendants together, and their CPU seconds, sampled
    from /proc every 0.2 s (rusage would miss the parse workers: they are the forkserver's children)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    todo += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
            except OSError:
                pass
        return pids

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0.0
            for pid in self._tree():
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    self.cpu[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) / 1024
                except OSError:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.2)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def kg_index(args: list[str], *, kill_after: float | None = None) -> tuple[float, float, str, float]:
    """Run `kg wikidata index ARGS`; (seconds, peak RSS MiB of its process tree, output tail, CPU seconds)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kg", "wikidata", "index", "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    rss = PeakRss(proc.pid)
    try:
        out, err = proc.communicate(timeout=kill_after)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    seconds = time.perf_counter() - started
    peak = rss.stop()
    if proc.returncode not in (0, -signal.SIGKILL):
        raise SystemExit(f"kg wikidata index failed ({proc.returncode}): {err[-2000:]}")
    return seconds, peak, (out + err)[-400:], sum(rss.cpu.values())


def decompression(plain: Path, workdir: Path, limit: int) -> list[tuple[str, float]]:
    """MB/s of decompressed output for each way of reading a compressed dump, on the first `limit` bytes."""
    sample = workdir / "sample.json"
    with plain.open("rb") as src, sample.open("wb") as dst:
        dst.write(src.read(limit))
    size = sample.stat().st_size
    subprocess.run(["gzip", "-6", "-k", "-f", str(sample)], check=True)
    subprocess.run(["bzip2", "-9", "-k", "-f", str(sample)], check=True)
    gz, bz = Path(f"{sample}.gz"), Path(f"{sample}.bz2")
    log(
        f"sample: {size / MB:.0f} MB of JSON, gzip -6 {gz.stat().st_size / MB:.0f} MB, "
        f"bzip2 -9 {bz.stat().st_size / MB:.0f} MB"
    )
    results = []

    def python(opener, path: Path) -> float:
        started = time.perf_counter()
        with opener(path, "rb") as stream:
            while stream.read(1 << 22):
                pass
        return time.perf_counter() - started

    results.append(("python gzip (zlib)", size / MB / python(gzip.open, gz)))
    import bz2

    results.append(("python bz2", size / MB / python(bz2.open, bz)))
    for tool, path in (("gzip", gz), ("pigz", gz), ("bzip2", bz), ("lbzip2", bz), ("zstd", None)):
        if shutil.which(tool) is None or path is None:
            continue
        started = time.perf_counter()
        subprocess.run([tool, "-dc", str(path)], stdout=subprocess.DEVNULL, check=True)
        results.append((f"{tool} -dc", size / MB / (time.perf_counter() - started)))
    return results


def _content(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [line for line in db.iterdump() if "'built'" not in line and "'name'" not in line]
    finally:
        db.close()


# -- the lookup index -------------------------------------------------------------------------------------------


def lookup_items(n: int, seed: int = 11) -> Iterator[Item]:
    """`n` items with names drawn from a small vocabulary, so that names repeat as in Wikidata (homonyms)."""
    gen = Generator(seed)
    r = gen.rng
    words = [gen.word() for _ in range(20_000)]
    for i in range(n):
        roll = r.random()
        if roll < 0.5:
            kind, label = "Person", f"{r.choice(GIVEN)} {r.choice(words)}"
        elif roll < 0.85:
            kind, label = "Place", r.choice(words)
        elif roll < 0.95:
            kind, label = "Organization", f"{r.choice(words)} {r.choice(('Group', 'University', 'Bank'))}"
        else:
            kind, label = "Event", f"{r.randint(1900, 2024)} {r.choice(words)} election"
        links = gen.sitelink_count(0.005)
        aliases = (f"{r.choice(words)} {label}",) if r.random() < 0.3 else ()
        yield Item(
            f"Q{100 + i}",
            label,
            aliases,
            description=f"generated {kind.lower()}",
            kind=kind,
            classes=("Q5",) if kind == "Person" else ("Q515",),
            sitelinks=links,
            popularity=popularity_from_sitelinks(links),
            popularity_basis="sitelinks",
            countries=(r.choice(("Q30", "Q183", "Q142")),),
            sources=("bench",),
        )


def time_lookups(index_path: Path, queries: list[LinkQuery]) -> dict[str, float]:
    """ms per entity: exact-name lookups (LocalIndex.find) and whole linking (kg.corpus.link.link), cold and warm."""
    out: dict[str, float] = {}
    keys = {key(q.label): q.label for q in queries}
    with LocalIndex(index_path) as index:
        started = time.perf_counter()
        index.find(keys)
        out["find cold"] = 1000 * (time.perf_counter() - started) / len(queries)
        runs = []
        for _ in range(5):
            index._items.clear()  # the item cache would make a warm run a dictionary lookup
            started = time.perf_counter()
            index.find(keys)
            runs.append(time.perf_counter() - started)
        out["find warm"] = 1000 * statistics.median(runs) / len(queries)
    with LocalIndex(index_path) as index:
        started = time.perf_counter()
        decisions = link(queries, [index], LinkConfig())
        out["link cold"] = 1000 * (time.perf_counter() - started) / len(queries)
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            link(queries, [index], LinkConfig())
            runs.append(time.perf_counter() - started)
        out["link warm"] = 1000 * statistics.median(runs) / len(queries)
        out["linked share"] = sum(d.linked for d in decisions) / len(decisions)
    return out


# -- main -------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=1_000_000, help="entities in the generated dump")
    parser.add_argument("--lookup-items", type=int, default=5_000_000, help="items in the lookup index")
    parser.add_argument("--queries", type=int, default=2000, help="entities per lookup run")
    parser.add_argument("--sample-mb", type=int, default=500, help="JSON megabytes for the decompression test")
    parser.add_argument("--jobs", type=int, default=0, help="kg wikidata index --jobs (0: its default)")
    parser.add_argument("--workdir", type=Path, help="keep generated files here (default: a temporary folder)")
    parser.add_argument("--skip", default="", help="comma-separated: decompression,index,resume,lookup")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    temp = None if args.workdir else tempfile.TemporaryDirectory(prefix="wdbench-")
    workdir = args.workdir or Path(temp.name)  # type: ignore[union-attr]
    workdir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, object] = {"entities": args.entities, "cpus": os.cpu_count()}
    try:
        plain = workdir / f"dump-{args.entities}.json"
        if not plain.exists():
            started = time.perf_counter()
            size, kept = write_dump(plain, args.entities)
            log(
                f"generated {plain} ({size / MB:.0f} MB, {kept:,} entities to keep) in {time.perf_counter() - started:.0f}s"
            )
        size = plain.stat().st_size
        figures["json_mb"] = size / MB
        gz = Path(f"{plain}.gz")
        if not gz.exists():
            started = time.perf_counter()
            subprocess.run(["gzip", "-6", "-k", "-f", str(plain)], check=True)
            log(f"gzip -6: {gz.stat().st_size / MB:.0f} MB in {time.perf_counter() - started:.0f}s")
        figures["gz_mb"] = gz.stat().st_size / MB
        if "decompression" not in skip:
            rates = decompression(plain, workdir, args.sample_mb * 1_000_000)
            figures["decompression_mb_s"] = dict(rates)
            for name, rate in rates:
                print(f"decompress  {name:<22} {rate:8.0f} MB/s of JSON")
        jobs = ["--jobs", str(args.jobs)] if args.jobs else []
        if "index" not in skip:
            for source in (gz, plain):
                out = workdir / f"index-{source.suffix.lstrip('.')}.sqlite"
                seconds, peak, _, cpu = kg_index([str(source), "-o", str(out), *jobs])
                db = sqlite3.connect(out)
                items = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
                db.close()
                rate_items = args.entities / seconds
                rate_mb = size / MB / seconds
                # Scaled by entities and by bytes, whichever is slower: our lines are shorter than the real
                # dump's average (about 13.6 KB), and most of the cost is per byte.
                scale = max(FULL_ENTITIES / args.entities, FULL_JSON_BYTES / size)
                projected = seconds * scale / 3600
                cpu_bound = cpu * scale / (os.cpu_count() or 1) / 3600
                figures[f"index_{source.suffix}"] = {
                    "seconds": seconds,
                    "cpu_seconds": cpu,
                    "entities_s": rate_items,
                    "json_mb_s": rate_mb,
                    "peak_rss_mib": peak,
                    "items": items,
                    "projected_hours": projected,
                    "projected_hours_from_cpu": cpu_bound,
                    "load": os.getloadavg()[0],
                }
                print(
                    f"index {source.name}: {seconds:.0f}s ({cpu:.0f} CPU s), {rate_items:,.0f} entities/s, "
                    f"{rate_mb:.0f} MB/s of JSON, {items:,} items kept, peak RSS {peak:.0f} MiB (all processes); "
                    f"full dump projected {projected:.1f} h at this speed, {cpu_bound:.1f} h if its CPU time "
                    f"were spread over {os.cpu_count()} idle cores; load {os.getloadavg()[0]:.1f}"
                )
        if "resume" not in skip:
            out = workdir / "index-resumed.sqlite"
            whole = figures.get("index_.gz", {}).get("seconds", 60.0)  # type: ignore[union-attr]
            first, _, _, _ = kg_index([str(gz), "-o", str(out), *jobs], kill_after=whole / 2)
            db = sqlite3.connect(f"{index_partial(out).as_uri()}?mode=ro", uri=True)
            done = db.execute("SELECT MAX(position) FROM build_inputs").fetchone()[0] or 0
            db.close()
            seconds, _, _, _ = kg_index([str(gz), "-o", str(out), "--resume", *jobs])
            same = _content(out) == _content(workdir / "index-gz.sqlite")
            figures["resume"] = {
                "killed_after_s": first,
                "checkpoint_mb": done / MB,
                "resumed_s": seconds,
                "same_index": same,
            }
            print(
                f"resume: killed (SIGKILL) after {first:.0f}s, at a checkpoint {done / MB:,.0f} MB into the JSON; "
                f"the resumed run took {seconds:.0f}s; same index as uninterrupted: {same}"
            )
        if "lookup" not in skip:
            index_path = workdir / f"lookup-{args.lookup_items}.sqlite"
            if not index_path.exists():
                items_file = workdir / f"lookup-{args.lookup_items}.jsonl"
                started = time.perf_counter()
                write_items(lookup_items(args.lookup_items), items_file, {"label": "generated", "date": "2024-01-01"})
                build_index([items_file], index_path)
                log(f"lookup index of {args.lookup_items:,} items built in {time.perf_counter() - started:.0f}s")
            r = random.Random(3)
            sample = [i for i in lookup_items(min(args.lookup_items, 200_000)) if r.random() < 0.05]
            queries = [
                LinkQuery(f"urn:bench:{n}", item.kind or "", item.label, articles=(f"a{n // 20}",))
                for n, item in enumerate(r.sample(sample, min(args.queries, len(sample))))
            ]
            times = time_lookups(index_path, queries)
            figures["lookup"] = {"items": args.lookup_items, "queries": len(queries), **times}
            print(
                f"lookups against {args.lookup_items:,} items, {len(queries)} entities: "
                + ", ".join(f"{k} {v:.3f}" + ("" if k == "linked share" else " ms") for k, v in times.items())
            )
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    finally:
        if temp is not None:
            temp.cleanup()


if __name__ == "__main__":
    main()
