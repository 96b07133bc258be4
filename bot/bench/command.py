"""`captionbot bench`: how fast captioning is, the model alone and the whole service, in one run.

1. The model alone, for each engine, on the same photos: photos per second at each batch size and
   one-photo latency (median, p95), encoder and decoder apart, each as a ratio to the baseline
   (eager float32, one photo at a time) measured in the same run; and how many captions are the
   same as the baseline's.
2. The whole service: the real bot process against the fake Telegram server, with 1, 8 and 64
   simulated users (see `service.py`).
3. The flood: 16 users sending a photo every 2 s, alone and beside one user who sends 500 photos
   at once, with the bot's own rate limit and queue size (`measure_flood`).

The report goes to standard output; it starts with the machine and the thread settings.
"""

import argparse
import io
import logging
import os
import platform
from pathlib import Path

import onnxruntime
import torch
from PIL import Image

from bot.bench.model import Decoding, EngineFigures, Latency, grounding_cost, measure
from bot.bench.service import (
    FloodFigures,
    LoopLagFigures,
    NoServiceSupport,
    ServiceFigures,
    measure_flood,
    measure_service,
)
from bot.settings import Settings
from captioning import preprocessing
from captioning.bundle import BundleError, load_bundle
from captioning.bundle_config import SHIPPED_BUNDLE
from captioning.decoder import Decoder
from captioning.encoder import Encoder
from captioning.engines import calibration
from captioning.engines.names import ENGINES, engine_list
from captioning.engines.registry import EngineError, load_engine
from captioning.grounding import Grounding

log = logging.getLogger(__name__)

DEV_LIST = "Flickr_8k.devImages.txt"
TARGET_SPEEDUP = 3.0
TARGET_LATENCY_MS = 30.0
TARGET_SERVICE_USERS, TARGET_SERVICE_RATE, TARGET_SERVICE_P95_S = 64, 20.0, 2.0
# beside a flooder the others' p95 stays within 1.5x of theirs alone and under 1 s, and the
# flooder receives at most 25 messages
TARGET_FLOOD_RATIO, TARGET_FLOOD_P95_S, TARGET_FLOOD_MESSAGES = 1.5, 1.0, 25


def _ints(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas: {text}") from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive numbers: {text}")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    default_engine = Settings.model_fields["engine"].default
    parser.add_argument("--model", type=Path, default=SHIPPED_BUNDLE, help="model bundle folder")
    parser.add_argument("--photos", type=int, default=32, help="photos to time the model on")
    parser.add_argument(
        "--beam",
        type=int,
        default=Settings.model_fields["beam_size"].default,
        help="beam size for the model alone (default: the bot's BEAM_SIZE)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=calibration.DEFAULT_DATA,
        help="Flickr8k folder: its dev photos are used (generated photos when it is absent)",
    )
    parser.add_argument(
        "--engines",
        type=engine_list,
        default=list(ENGINES),
        help=f"engines to time, comma-separated (default: {','.join(ENGINES)})",
    )
    parser.add_argument("--batch-sizes", type=_ints, default=[1, 4, 16])
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="CPU threads for torch and ONNX Runtime (default: all cores)",
    )
    parser.add_argument(
        "--users", type=_ints, default=[1, 8, 64], help="simulated users for the service benchmark"
    )
    parser.add_argument("--per-user", type=int, default=4, help="photos each user sends")
    parser.add_argument(
        "--paced-users",
        type=int,
        default=TARGET_SERVICE_USERS,
        help="users of the paced run, after the flat-out ones (0: none)",
    )
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=TARGET_SERVICE_RATE,
        help="photos per second the paced run's users offer together",
    )
    parser.add_argument(
        "--service-engines",
        type=engine_list,
        default=sorted({"eager", default_engine}),
        help=f"engines the bot is run with (default: eager and the bot's, {default_engine})",
    )
    parser.add_argument(
        "--service-batch",
        type=int,
        default=Settings.model_fields["batch_size"].default,
        help="the bot's BATCH_SIZE during the service benchmark",
    )
    parser.add_argument("--no-service", action="store_true", help="time the model only")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="serve with a front (run --no-worker) and this many workers (0: one process)",
    )
    parser.add_argument(
        "--database-url",
        help="the database the front and workers share (PostgreSQL; needed with --workers)",
    )
    parser.add_argument(
        "--flood", type=int, default=500, help="photos the flooder sends at once (0: no flood)"
    )
    parser.add_argument("--flood-users", type=int, default=16, help="users beside the flooder")
    parser.add_argument(
        "--flood-interval", type=float, default=2.0, help="seconds between their photos"
    )
    parser.add_argument("--flood-rounds", type=int, default=10, help="photos each of them sends")
    parser.add_argument(
        "--flood-engine",
        type=engine_list,
        default=[default_engine],
        help=f"the engine of the flood scenario's bot (default: the bot's, {default_engine})",
    )
    parser.add_argument(
        "--flood-only", action="store_true", help="only the flood scenario (no model timing)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit with status 1 when a target is not met (as well as when a photo is lost)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes, for a smoke test: 4 photos, batch 1 and 2, 1 and 2 users, 1 photo "
        "each; a flood of 40 photos beside 2 users sending 2",
    )


def run(args: argparse.Namespace) -> int:
    if args.quick:
        args.photos, args.batch_sizes, args.users, args.per_user = 4, [1, 2], [1, 2], 1
        args.paced_users, args.paced_rate = 2, 4.0
        args.flood, args.flood_users, args.flood_rounds, args.flood_interval = 40, 2, 2, 1.0
    torch.set_num_threads(args.threads)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # a line per fake API call
    try:
        encoder, decoder, vocab, config = load_bundle(args.model)
    except BundleError as exc:
        log.error("%s", exc)
        return 2
    d = config["decoding"]
    weights = args.model / config["encoder"]["weights"]
    grounding = Grounding.from_bundle(args.model, weights, vocab)
    decoding = Decoding(vocab, args.beam, d["max_length"], d["length_penalty"], grounding)
    images, source = bench_photos(args.data, args.photos)
    print(describe_machine(args.threads))
    print(f"model: {args.model}, beam {decoding.beam_size}; photos: {source}\n")

    figures: list[EngineFigures] = []
    services: list[ServiceFigures] = []
    if not args.flood_only:
        result = model_and_service(args, encoder, decoder, images, decoding)
        if result is None:
            return 1
        figures, services = result
    floods: list[FloodFigures] = []
    if args.flood:
        try:
            floods.append(
                measure_flood(
                    args.model,
                    args.flood_engine[0],
                    images,
                    args.threads,
                    args.service_batch,
                    args.flood_users,
                    args.flood_interval,
                    args.flood_rounds,
                    args.flood,
                )
            )
        except (NoServiceSupport, AssertionError) as exc:
            log.error("flood scenario: %s", exc)
            return 1
        print(flood_report(floods[0]))
    report, all_met = targets(figures, services, floods)
    print(report)
    lost = sum(s.lost + s.duplicated + s.refused for s in services)
    if lost or any(f.others_missed for f in floods):
        return 1
    return 1 if args.strict and not all_met else 0


def model_and_service(
    args: argparse.Namespace,
    encoder: Encoder,
    decoder: Decoder,
    images: list[bytes],
    decoding: Decoding,
) -> tuple[list[EngineFigures], list[ServiceFigures]] | None:
    """Parts 1 and 2: the model alone for each engine, then the whole service (None: an engine
    or the bot could not be started, which is logged)."""
    engines = ["eager", *(e for e in args.engines if e != "eager")]
    batch_sizes = sorted({1, *args.batch_sizes})
    pixels = preprocessing.batch([Image.open(io.BytesIO(data)) for data in images])
    loaded = []
    for name in engines:
        try:
            loaded.append(load_engine(name, args.model, encoder, decoder, args.threads, args.data))
        except (EngineError, OSError, RuntimeError) as exc:
            log.error("engine %s could not be loaded: %s", name, exc)
            return None
    log.info("timing %s, taking turns", ", ".join(engines))
    figures = measure(loaded, pixels, batch_sizes, decoding)
    print(model_report(figures, batch_sizes))
    if decoding.grounding is not None:
        grounded, plain = grounding_cost(loaded[-1], pixels, decoding)
        photo_ms = figures[-1].latency["total"].median_ms
        print(grounding_report(loaded[-1].name, grounded, plain, photo_ms))

    services: list[ServiceFigures] = []
    if not args.no_service:
        for name in args.service_engines:
            try:
                services += measure_service(
                    args.model,
                    name,
                    args.users,
                    args.per_user,
                    images,
                    args.threads,
                    args.service_batch,
                    (args.paced_users, args.paced_rate) if args.paced_users else None,
                    args.workers,
                    args.database_url,
                )
            except (NoServiceSupport, AssertionError, ValueError) as exc:  # no bot, or no aiohttp
                log.error("service benchmark with %s: %s", name, exc)
                return None
        print(service_report(services, args.service_batch, args.per_user))
    return figures, services


def bench_photos(data: Path, count: int) -> tuple[list[bytes], str]:
    """JPEG bytes of `count` Flickr8k dev photos, or of generated photos when it is absent."""
    listing = data / DEV_LIST
    if listing.is_file():
        names = [n.strip() for n in listing.read_text().splitlines() if n.strip()][:count]
        paths = [data / "Images" / n for n in names]
        if len(paths) == count and all(p.is_file() for p in paths):
            return [p.read_bytes() for p in paths], f"{count} Flickr8k dev photos from {data}"
    import numpy as np

    rng = np.random.default_rng(1)
    photos = []
    for _ in range(count):
        buffer = io.BytesIO()
        calibration.generated_photo(rng).resize((500, 375)).save(buffer, format="JPEG")
        photos.append(buffer.getvalue())
    return photos, f"{count} generated photos (no Flickr8k dev split at {data})"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine(threads: int) -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {cpu_model()}, {os.cpu_count()} cores; load average {load} at start\n"
        f"threads: torch {torch.get_num_threads()}, ONNX Runtime intra-op {threads}, inter-op 1; "
        f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}"
    )


def grounding_report(engine: str, grounded: Latency, plain: Latency, photo_ms: float) -> str:
    """Grounding's cost: in beam search, and as a share of one photo's whole time."""
    extra = grounded.median_ms - plain.median_ms
    share = 100 * extra / (photo_ms - extra) if photo_ms > extra else 0.0
    return (
        f"== grounding's cost: beam search for one photo, {engine} (ms, median / p95) ==\n"
        f"grounded {grounded.median_ms:.1f} / {grounded.p95_ms:.1f}, "
        f"plain {plain.median_ms:.1f} / {plain.p95_ms:.1f}: {extra:+.1f} ms, "
        f"{share:+.1f} % of one photo's time without it\n"
    )


def model_report(figures: list[EngineFigures], batch_sizes: list[int]) -> str:
    base = figures[0]  # eager
    base_rate = base.throughput[1].total
    base_ms = base.latency["total"].median_ms
    lines = [
        "== the model alone: throughput (photos/s; x = both parts vs eager at batch 1) ==",
        f"{'engine':<10}{'batch':>6}{'encoder':>10}{'decoder':>10}{'both':>10}{'x eager':>9}",
    ]
    for f in figures:
        for b in batch_sizes:
            tp = f.throughput[b]
            lines.append(
                f"{f.engine:<10}{b:>6}{tp.encoder:>10.1f}{tp.decoder:>10.1f}{tp.total:>10.1f}"
                f"{tp.total / base_rate:>8.1f}x"
            )
    lines += [
        "",
        "== the model alone: one photo at a time (ms, median / p95) ==",
        f"{'engine':<10}{'encoder':>18}{'decoder':>18}{'both':>18}{'x eager':>9}"
        f"{'same captions':>15}",
    ]
    for f in figures:
        same = sum(a == b for a, b in zip(f.captions, base.captions, strict=True))
        cells = "".join(
            f"{f'{f.latency[p].median_ms:.1f} / {f.latency[p].p95_ms:.1f}':>18}"
            for p in ("encoder", "decoder", "total")
        )
        speed = base_ms / f.latency["total"].median_ms
        lines.append(f"{f.engine:<10}{cells}{speed:>8.1f}x{f'{same}/{len(base.captions)}':>15}")
    return "\n".join(lines) + "\n"


def service_report(services: list[ServiceFigures], batch: int, per_user: int) -> str:
    lines = [
        f"== the whole service (captionbot run, or a front and N workers, + fake Telegram; "
        f"BATCH_SIZE {batch}; each user sends {per_user} photo(s), one after another: flat out, "
        "or paced so that the users together offer a steady rate; the event loop's lag: its "
        "p99 over the load and its worst since start, in the process that takes updates and "
        "the worst of the workers) ==",
        f"{'engine':<10}{'workers':>8}{'users':>6}{'pace':>10}{'sent':>6}{'answered':>9}"
        f"{'lost':>5}{'dup':>4}{'refused':>8}{'photos/s':>10}{'median s':>10}{'p95 s':>8}"
        f"{'lag p99/worst ms':>18}{'workers p99/worst':>19}",
    ]
    for s in services:
        pace = "flat-out" if s.offered is None else f"{s.offered:g}/s"
        lines.append(
            f"{s.engine:<10}{s.workers or 'all-in-1':>8}{s.users:>6}{pace:>10}{s.sent:>6}"
            f"{s.answered:>9}{s.lost:>5}{s.duplicated:>4}{s.refused:>8}{s.photos_per_s:>10.1f}"
            f"{s.latency.median_ms / 1000:>10.2f}{s.latency.p95_ms / 1000:>8.2f}"
            + f"{_lag(s.loop_lag):>18}{_lag(s.workers_loop_lag):>19}"
        )
    return "\n".join(lines) + "\n"


def _lag(lag: LoopLagFigures | None) -> str:
    return "-" if lag is None else f"{lag.p99_ms:.0f} / {lag.worst_ms:.0f}"


def flood_report(flood: FloodFigures) -> str:
    lines = [
        f"== the flood ({flood.engine}; the bot's own rate limit and queue size; "
        f"{flood.users} users each send a photo every {flood.interval_s:g} s, {flood.rounds} "
        f"times, alone and beside one user who sends {flood.flood} photos at once) ==",
        f"{'others':<16}{'median s':>10}{'p95 s':>8}",
        f"{'alone':<16}{flood.alone.median_ms / 1000:>10.2f}{flood.alone.p95_ms / 1000:>8.2f}",
        f"{'beside flooder':<16}{flood.beside.median_ms / 1000:>10.2f}"
        f"{flood.beside.p95_ms / 1000:>8.2f}",
        f"others: {flood.others_sent} photos, {flood.others_missed} not captioned once; "
        f"the flooder got {flood.flooder_messages} messages ({flood.flooder_captions} captions)",
    ]
    return "\n".join(lines) + "\n"


def targets(
    figures: list[EngineFigures], services: list[ServiceFigures], floods: list[FloodFigures]
) -> tuple[str, bool]:
    """The issue's targets, each with the best figure of this run and whether it is met, and
    whether all are. Only accurate engines count: those that gave every one of eager's captions
    here, and the bot's default (its dev BLEU-4 is checked against eager's by `training evaluate
    --engine`)."""
    lines: list[str] = []
    verdicts: list[bool] = []

    def check(ok: bool, text: str) -> None:
        verdicts.append(ok)
        lines.append(f"[{'met' if ok else 'not met'}] {text}")

    if figures:
        default = Settings.model_fields["engine"].default
        base = figures[0].throughput[1].total
        counted = [f for f in figures if f.captions == figures[0].captions or f.engine == default]
        best_rate, best_rate_at = max(
            (tp.total, f"{f.engine}, batch {b}") for f in counted for b, tp in f.throughput.items()
        )
        best_ms, best_ms_engine = min((f.latency["total"].median_ms, f.engine) for f in counted)
        names = ", ".join(f.engine for f in counted)
        lines.append(f"== targets (counting {names}: eager's captions, or the bot's default) ==")
        check(
            best_rate >= TARGET_SPEEDUP * base,
            f"model throughput >= {TARGET_SPEEDUP:.0f}x eager batch 1: "
            f"{best_rate / base:.1f}x ({best_rate_at})",
        )
        check(
            best_ms < TARGET_LATENCY_MS,
            f"one-photo latency median < {TARGET_LATENCY_MS:.0f} ms: "
            f"{best_ms:.1f} ms ({best_ms_engine})",
        )
    else:
        lines.append("== targets ==")
    for engine in dict.fromkeys(s.engine for s in services):
        runs = [s for s in services if s.engine == engine and s.users == TARGET_SERVICE_USERS]
        flat = next((s for s in runs if s.offered is None), None)
        paced = next((s for s in runs if s.offered == TARGET_SERVICE_RATE), None)
        if flat is None or paced is None:
            continue
        check(
            flat.photos_per_s >= TARGET_SERVICE_RATE
            and paced.latency.p95_ms <= TARGET_SERVICE_P95_S * 1000
            and not any(s.lost or s.duplicated for s in runs),
            f"service at {flat.users} users >= {TARGET_SERVICE_RATE:g} photos/s (flat out), "
            f"p95 < {TARGET_SERVICE_P95_S:g} s at {TARGET_SERVICE_RATE:g} photos/s (paced), none "
            f"lost ({engine}): {flat.photos_per_s:.1f} photos/s, p95 "
            f"{paced.latency.p95_ms / 1000:.2f} s, {sum(s.lost for s in runs)} lost",
        )
    for s in services:
        if s.lost or s.duplicated or s.refused:
            check(
                False,
                f"{s.engine}, {s.users} users: {s.lost} lost, {s.duplicated} "
                f"duplicated, {s.refused} refused of {s.sent}",
            )
    for f in floods:
        check(
            f.beside.p95_ms <= TARGET_FLOOD_RATIO * f.alone.p95_ms
            and f.beside.p95_ms < TARGET_FLOOD_P95_S * 1000
            and f.flooder_messages <= TARGET_FLOOD_MESSAGES
            and not f.others_missed,
            f"beside a {f.flood}-photo flooder the others' p95 <= {TARGET_FLOOD_RATIO:g}x alone "
            f"and < {TARGET_FLOOD_P95_S:g} s, the flooder <= {TARGET_FLOOD_MESSAGES} messages, "
            f"none of the others' photos missed ({f.engine}): p95 {f.beside.p95_ms / 1000:.2f} s "
            f"against {f.alone.p95_ms / 1000:.2f} s "
            f"({f.beside.p95_ms / max(f.alone.p95_ms, 1e-9):.2f}x), {f.flooder_messages} "
            f"messages, {f.others_missed} missed",
        )
    return "\n".join(lines), all(verdicts)
