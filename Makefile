# Two commands do all the set-up on a fresh machine (each makes its own virtual environment):
#   make run   - build the sample corpus in seeds/ into kg-store/ and show what is in it
#   make test  - run the test suite
PYTHON ?= python3
VENV ?= .venv
STORE ?= kg-store
BIN = $(VENV)/bin

.PHONY: run test lint clean

$(BIN)/kg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(BIN)/kg

run: $(BIN)/kg
	$(BIN)/kg build seeds --store $(STORE)
	$(BIN)/kg stats --store $(STORE)
	$(BIN)/kg query most-mentioned-people --store $(STORE)
	$(BIN)/kg query entities-by-type --store $(STORE)

test: $(BIN)/kg
	$(BIN)/python -m pytest -q -n auto --dist loadfile

lint: $(BIN)/kg
	$(BIN)/ruff check kg tests bench

clean:
	rm -rf $(VENV) $(STORE)
