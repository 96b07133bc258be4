"""The engines' names, known without loading any engine: the bot's ENGINE setting and every
command line that takes engines check them here (registry.py has what each one is)."""

import argparse
from typing import Literal, get_args

EngineName = Literal["eager", "onnx", "bf16", "int8"]
ENGINES: tuple[EngineName, ...] = get_args(EngineName)
# the bot's default: the fastest within 0.005 dev BLEU-4 of eager (README, Speed)
DEFAULT_ENGINE: EngineName = "int8"


def engine_name(text: str) -> EngineName:
    """One engine's name, for argparse's `type=`."""
    for name in ENGINES:
        if text.strip() == name:
            return name
    raise argparse.ArgumentTypeError(f"unknown engine {text!r}; choose from {', '.join(ENGINES)}")


def engine_list(text: str) -> list[EngineName]:
    """Comma-separated engine names ("eager,int8"), for argparse's `type=`."""
    names = [engine_name(part) for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"no engine named; choose from {', '.join(ENGINES)}")
    return names
