# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Development site on the embedded defaults (SQLite, file broker, mail in var/mail/).
run: export DEBUG ?= 1
# Editors' notifications land in var/mail/ like every other mail in development.
run: export CONTACT_RECIPIENTS ?= desk@localhost
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	@echo "Starting web (http://127.0.0.1:8000/), worker and beat; Ctrl-C stops them."
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) var test-artifacts
