"""How large a store `kg serve` copies into memory: `--memory-quads`, else what a quarter of the machine holds.

One shared copy (the default way of serving) can take what a copy per worker process cannot, so the budget is
split between the copies; a container's memory limit counts as the machine's."""

from __future__ import annotations

import pytest

from kg.serve import BYTES_PER_QUAD, machine_memory, memory_budget
from kg.settings import Settings, SettingsError, load_settings


def test_a_given_memory_quads_is_the_budget_whatever_the_copies():
    assert memory_budget(Settings(memory_quads=5_000_000), copies=1) == 5_000_000
    assert memory_budget(Settings(memory_quads=5_000_000), copies=4) == 5_000_000
    assert memory_budget(Settings(memory_quads=0), copies=1) == 0, "0: never copy"


def test_by_default_the_copies_share_a_quarter_of_the_machines_memory():
    one = memory_budget(Settings(), copies=1)
    assert one == machine_memory() // 4 // BYTES_PER_QUAD
    assert memory_budget(Settings(), copies=2) == one // 2
    assert one * BYTES_PER_QUAD <= machine_memory() / 4


def test_a_containers_memory_limit_counts_when_it_is_lower(tmp_path):
    limit = tmp_path / "memory.max"
    limit.write_text("1073741824\n")
    assert machine_memory(limit) == min(machine_memory(tmp_path / "absent"), 1 << 30)
    limit.write_text("max\n")
    assert machine_memory(limit) == machine_memory(tmp_path / "absent"), "no limit: the machine's memory"


def test_memory_quads_comes_from_the_environment_or_stays_automatic(tmp_path):
    no_file = {"KG_CONFIG": str(tmp_path / "absent.toml")}
    assert load_settings(environ=no_file).memory_quads is None
    assert load_settings(environ={**no_file, "KG_MEMORY_QUADS": "3000000"}).memory_quads == 3_000_000
    with pytest.raises(SettingsError, match="memory_quads cannot be negative"):
        load_settings(environ={**no_file, "KG_MEMORY_QUADS": "-1"})
