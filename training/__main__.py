"""`python -m training prepare|train|evaluate|export`: rebuild the captioning model."""

import argparse
import logging
import sys
from dataclasses import fields
from pathlib import Path

import torch

from captioning.bundle_config import SHIPPED_BUNDLE
from captioning.encoder import Encoder
from captioning.engines.names import engine_list
from captioning.imagenet_weights import load_state
from training import imagenet_words, person_head
from training.data import DEFAULT_WORK
from training.flickr8k import DatasetError
from training.train import TrainConfig

DEFAULT_DATA = Path("../shared/flickr8k")
DEFAULT_ENCODER = Path("model_weights/resnet50_imagenet.safetensors")


def imagenet_encoder(path: Path) -> Encoder:
    if not path.exists():
        sys.exit(f"{path} is missing: run `captionbot weights` (or `make weights`) first")
    encoder = Encoder()
    encoder.load_trunk(load_state(path))
    return encoder


def cmd_prepare(args: argparse.Namespace) -> None:
    from training.prepare import prepare

    prepare(
        args.data,
        args.work,
        imagenet_encoder(args.encoder_weights),
        args.min_count,
        args.batch_size,
    )


def cmd_train(args: argparse.Namespace) -> None:
    from training.train import train

    config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    train(args.work, config, args.resume)


def cmd_evaluate(args: argparse.Namespace) -> None:
    if args.everyday:
        from training.everyday import evaluate_everyday

        engine = args.engine[0] if args.engine else "eager"
        plain = "-plain" if args.plain else ""
        report = args.work / "reports" / f"everyday_{args.everyday.name}_{engine}{plain}.json"
        evaluate_everyday(args.everyday, args.model, engine, args.beam, not args.plain, report)
        return
    if args.engine:
        from training.engine_eval import evaluate_engines

        report = args.work / "reports" / f"{args.split}_engines.json"
        ok = evaluate_engines(
            args.model,
            args.data,
            args.split,
            args.engine,
            args.beam,
            args.limit,
            report,
            grounded=not args.plain,
        )
        if not ok:
            sys.exit(1)
        return
    from training.evaluate import evaluate

    evaluate(args.work, args.split, args.beam, args.max_length, args.bundle)


def cmd_export(args: argparse.Namespace) -> None:
    from training.export import export

    export(args.work, args.out, args.encoder_weights, args.beam, args.max_length)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("prepare", help="build the vocabulary and cache encoder features")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Flickr8k folder")
    p.add_argument("--work", type=Path, default=DEFAULT_WORK, help="cache and checkpoint folder")
    p.add_argument("--encoder-weights", type=Path, default=DEFAULT_ENCODER)
    p.add_argument("--min-count", type=int, default=5, help="keep words seen this often")
    p.add_argument("--batch-size", type=int, default=32)
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("train", help="train the decoder on the cached features")
    p.add_argument("--work", type=Path, default=DEFAULT_WORK)
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    for field in fields(TrainConfig):
        flag = f"--{field.name.replace('_', '-')}"
        if field.type is bool:
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=field.default)
        else:
            p.add_argument(flag, type=field.type, default=field.default)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="BLEU, METEOR and CIDEr of the best checkpoint")
    p.add_argument("--work", type=Path, default=DEFAULT_WORK)
    p.add_argument("--split", choices=["dev", "test"], default="dev")
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--max-length", type=int, default=30)
    p.add_argument(
        "--bundle",
        type=Path,
        default=None,
        help="score this bundle's decoder instead of the best checkpoint (e.g. the shipped one)",
    )
    p.add_argument(
        "--engine",
        type=engine_list,
        default=None,
        metavar="NAME[,NAME...]",
        help="instead: caption the split's photos with the whole Captioner on these engines "
        "(e.g. eager,int8) and compare BLEU-4 with eager's",
    )
    p.add_argument(
        "--model",
        type=Path,
        default=SHIPPED_BUNDLE,
        help="with --engine: the model bundle",
    )
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="with --engine: Flickr8k")
    p.add_argument("--limit", type=int, default=None, help="with --engine: first N photos only")
    p.add_argument(
        "--everyday",
        type=Path,
        default=None,
        metavar="DIR",
        help="instead: how truthful captions are on everyday photos (a COCO-style folder with "
        "references.json, or ImageNet-named photos), with the first --engine (default eager)",
    )
    p.add_argument(
        "--plain",
        action="store_true",
        help="with --engine or --everyday: decode without grounding (as before it)",
    )
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("export", help="write the best checkpoint as a model bundle")
    p.add_argument("--work", type=Path, default=DEFAULT_WORK)
    p.add_argument("--out", type=Path, default=SHIPPED_BUNDLE)
    p.add_argument(
        "--encoder-weights",
        default="../resnet50_imagenet.safetensors",
        help="the encoder's weight file, relative to the bundle folder",
    )
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--max-length", type=int, default=30)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "imagenet-words", help="the ImageNet class -> caption word table, from WordNet"
    )
    imagenet_words.add_arguments(p)
    p.set_defaults(func=imagenet_words.run)

    p = sub.add_parser("person-head", help="train grounding's someone-is-in-the-photo head")
    person_head.add_arguments(p)
    p.set_defaults(func=person_head.run)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        args.func(args)
    except DatasetError as exc:
        logging.getLogger("training").error("%s", exc)
        sys.exit(2)


if __name__ == "__main__":
    main()
