"""How long the query page takes to draw a large answer in a real headless Chromium: this tree against a
baseline commit, in the same run (issue 20, item 4: a 2,735-row answer took about 20 s to draw).

    .venv/bin/python bench/query_draw.py [--store DIR] [--rows 2735] [--baseline f55bf6e] [--rounds 3]

Without --store it builds seeds/ into a temporary folder (about ten seconds). Both trees serve copies
of the same store (bench/pages.py starts them); rounds alternate baseline and this tree (A B A B). A
round loads the page, puts `SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT ROWS` in the editor, clicks the
run button and times until the table's first rows are there and the page answers a script again
(the main thread is free: drawing, and any work its own observers do, is over).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from pages import baseline_tree, log, serving  # noqa: E402
from serving import copy_store  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
        "--window-size=1400,1000", f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(120)
    return driver


def wait(driver, script: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.execute_script(script):
            return
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for: {script}")


def draw_time(driver, url: str, rows: int) -> float:
    driver.get(url)
    wait(driver, "return !!document.querySelector('.yasqe .CodeMirror')")
    time.sleep(1.0)  # a page that runs its opening query draws it first
    wait(driver, "return !document.querySelector('.yasr .loader') || !document.querySelector('.yasr .loader').offsetParent")
    driver.execute_script(
        "document.querySelector('.yasqe .CodeMirror').CodeMirror.setValue(arguments[0]);"
        "document.querySelectorAll('.yasr table').forEach(function (t) { t.remove(); });",
        f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {rows}",
    )
    started = time.perf_counter()
    driver.execute_script("document.querySelector('.yasqe_queryButton').click();")
    wait(driver, "return document.querySelectorAll('.yasr table tbody tr').length > 1")
    driver.execute_script("return 1")  # answered once the main thread is free again
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path)
    parser.add_argument("--rows", type=int, default=2735)
    parser.add_argument("--baseline", default="main")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-draw-") as folder:
        work = Path(folder)
        store = args.store
        if store is None:
            store = work / "seeds"
            log("building seeds/ ...")
            subprocess.run([sys.executable, "-m", "kg", "build", "seeds", "--store", str(store), "-q"], cwd=ROOT,
                           check=True)
        trees = {"baseline": baseline_tree(work, args.baseline), "this tree": ROOT}
        times: dict[str, list[float]] = {name: [] for name in trees}
        driver = browser(work / "profile")
        try:
            for round_number in range(args.rounds):
                for name, tree in trees.items():
                    copy = copy_store(store, work / f"copy-{round_number}-{name.replace(' ', '-')}")
                    with serving(tree, copy) as url:
                        seconds = draw_time(driver, url + "/", args.rows)
                    times[name].append(seconds)
                    log(f"round {round_number + 1}: {name} {seconds:.2f} s")
                    shutil.rmtree(copy, ignore_errors=True)
        finally:
            driver.quit()
        old, new = statistics.median(times["baseline"]), statistics.median(times["this tree"])
        print(f"query page, {args.rows:,}-row answer drawn (median of {args.rounds}, baseline {args.baseline}):")
        print(f"  baseline {old:.2f} s  this tree {new:.2f} s  ratio {new / old:.2f}")


if __name__ == "__main__":
    main()
