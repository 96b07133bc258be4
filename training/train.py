"""Step 2: train the decoder on cached features, with real beam-search decoding on dev each epoch.

Every epoch writes `<work>/checkpoints/last.pt` (model, optimiser, schedule, history, RNG), so an
interrupted run continues with `--resume`; the epoch with the best dev BLEU-4 is kept in
`<work>/checkpoints/best.pt`. Checkpoints hold tensors and plain values only (weights_only load).
"""

import logging
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from captioning.beam_search import beam_search
from captioning.decoder import Decoder, DecoderConfig, loss_fn
from captioning.vocabulary import Vocabulary
from training.data import Split, caption_pairs, collate, load_split, load_vocab
from training.metrics import bleu

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    epochs: int = 12
    batch_size: int = 64
    lr: float = 4e-4
    lr_decay: float = 0.5  # applied when dev BLEU-4 does not improve
    patience: int = 3  # epochs without improvement before stopping
    grad_clip: float = 5.0
    attention_penalty: float = 1.0
    embed_dim: int = 512
    attention_dim: int = 512
    hidden_dim: int = 512
    dropout: float = 0.5
    beam_size: int = 3
    max_length: int = 30
    seed: int = 0
    bf16: bool = True  # bfloat16 autocast for the training step (master weights stay float32)


def decode_split(
    decoder: Decoder,
    split: Split,
    vocab: Vocabulary,
    beam_size: int,
    max_length: int,
    chunk: int = 100,
) -> list[str]:
    """Beam-search captions for every photo of a split."""
    decoder.eval()
    captions = []
    for start in tqdm(range(0, len(split.features), chunk), desc="decoding", unit="chunk"):
        feats = split.features[start : start + chunk].float()  # (b, L, D)
        for beams in beam_search(decoder, feats, beam_size, max_length):
            captions.append(" ".join(vocab.decode(beams[0].tokens)))
    return captions


def save_atomic(obj: dict, path: Path) -> None:
    partial = path.with_suffix(".partial")
    torch.save(obj, partial)
    partial.replace(path)


def train(work: Path, config: TrainConfig, resume: bool) -> dict:
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    vocab = load_vocab(work)
    train_split, dev_split = load_split(work, "train"), load_split(work, "dev")
    pairs = caption_pairs(train_split, vocab)
    model_config = DecoderConfig(
        vocab_size=len(vocab),
        feature_dim=train_split.features.shape[2],
        embed_dim=config.embed_dim,
        attention_dim=config.attention_dim,
        hidden_dim=config.hidden_dim,
        dropout=config.dropout,
    )
    decoder = Decoder(model_config)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="max", factor=config.lr_decay, patience=0
    )
    ckpt_dir = work / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    state: dict = {"epoch": 0, "best_bleu4": -1.0, "best_epoch": 0, "history": []}
    if resume and (ckpt_dir / "last.pt").exists():
        saved = torch.load(ckpt_dir / "last.pt", weights_only=True)
        decoder.load_state_dict(saved["decoder"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        torch.set_rng_state(saved["rng"])
        state = saved["state"]
        log.info(
            "resuming after epoch %d (best dev BLEU-4 %.4f at epoch %d)",
            state["epoch"],
            state["best_bleu4"],
            state["best_epoch"],
        )
    n_params = sum(p.numel() for p in decoder.parameters())
    log.info(
        "decoder: %.1fM parameters, %d words, %d training captions",
        n_params / 1e6,
        len(vocab),
        len(pairs),
    )

    for epoch in range(state["epoch"] + 1, config.epochs + 1):
        if epoch - state["best_epoch"] > config.patience and state["best_epoch"] > 0:
            log.info("dev BLEU-4 has not improved for %d epochs: stopping", config.patience)
            break
        decoder.train()
        order = torch.randperm(
            len(pairs), generator=torch.Generator().manual_seed(config.seed + epoch)
        )
        n_batches = math.ceil(len(pairs) / config.batch_size)
        started, total = time.time(), 0.0
        bar = tqdm(range(n_batches), desc=f"epoch {epoch}", unit="batch")
        for b in bar:
            idx = order[b * config.batch_size : (b + 1) * config.batch_size].tolist()
            feats, captions, lengths = collate(train_split, [pairs[i] for i in idx])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
                logits, alphas = decoder(feats, captions, lengths)  # (B, T-1, V), (B, T-1, L)
            loss = loss_fn(
                logits.float(), alphas.float(), captions, lengths, config.attention_penalty
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(decoder.parameters(), config.grad_clip)
            optimizer.step()
            total += loss.item()
            bar.set_postfix(loss=f"{total / (b + 1):.3f}")
        train_s = time.time() - started

        started = time.time()
        hypotheses = decode_split(decoder, dev_split, vocab, config.beam_size, config.max_length)
        bleu4 = bleu(hypotheses, dev_split.references)[3]
        record = {
            "epoch": epoch,
            "loss": total / n_batches,
            "dev_bleu4": bleu4,
            "lr": optimizer.param_groups[0]["lr"],
            "train_s": round(train_s, 1),
            "dev_decode_s": round(time.time() - started, 1),
            "sample": hypotheses[:3],
        }
        state["history"].append(record)
        log.info(
            "epoch %d: loss %.3f, dev BLEU-4 %.4f (%.0f s train, %.0f s dev)",
            epoch,
            record["loss"],
            bleu4,
            train_s,
            record["dev_decode_s"],
        )
        schedule.step(bleu4)
        if bleu4 > state["best_bleu4"]:
            state.update(best_bleu4=bleu4, best_epoch=epoch)
            save_atomic(
                {
                    "decoder": decoder.state_dict(),
                    "model_config": model_config.to_dict(),
                    "train_config": asdict(config),
                    "epoch": epoch,
                    "dev_bleu4": bleu4,
                },
                ckpt_dir / "best.pt",
            )
        state["epoch"] = epoch
        save_atomic(
            {
                "decoder": decoder.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "rng": torch.get_rng_state(),
                "state": state,
            },
            ckpt_dir / "last.pt",
        )
    log.info("best dev BLEU-4 %.4f at epoch %d", state["best_bleu4"], state["best_epoch"])
    return state
