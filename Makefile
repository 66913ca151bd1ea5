# FactoryOps: the README's commands. Each target installs what it needs first (scripts/setup.sh
# is idempotent and quick when everything is present).
SHELL := /bin/bash
JOBS ?= $(shell nproc)

.PHONY: setup build backend frontend up test bench lint format coverage clean

setup:
	@bash scripts/setup.sh

build: setup backend frontend

backend:
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	@echo "built build/factoryops"

frontend:
	@bash scripts/build_frontend.sh

up: build
	@bash scripts/up.sh

test: setup
	@bash scripts/test.sh

bench: build
	@bash bench/run.sh

lint: setup
	@bash scripts/lint.sh

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i
	@cd frontend && npx prettier --write . >/dev/null

clean:
	rm -rf build frontend/dist
