"""The caption decoder of "Show, Attend and Tell" (Xu et al. 2015), with soft attention.

At each step the LSTM looks at the 49 encoder features through Bahdanau (additive) attention,
gates the attended context with a scalar per feature channel, and predicts the next word.
Shapes: B batch, L = 49 feature positions, D = 2048 feature size, E embedding, A attention,
H hidden, V vocabulary, T caption length.
"""

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DecoderConfig:
    vocab_size: int
    feature_dim: int = 2048
    embed_dim: int = 512
    attention_dim: int = 512
    hidden_dim: int = 512
    dropout: float = 0.5

    def to_dict(self) -> dict[str, int | float]:
        return asdict(self)


class Attention(nn.Module):
    def __init__(self, feature_dim: int, hidden_dim: int, attention_dim: int) -> None:
        super().__init__()
        self.feature_proj = nn.Linear(feature_dim, attention_dim)
        self.hidden_proj = nn.Linear(hidden_dim, attention_dim)
        self.score = nn.Linear(attention_dim, 1)

    def forward(
        self, feats: torch.Tensor, feats_proj: torch.Tensor, h: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # feats (B, L, D), feats_proj (B, L, A) = feature_proj(feats), computed once; h (B, H)
        e = self.score(torch.tanh(feats_proj + self.hidden_proj(h).unsqueeze(1))).squeeze(2)
        alpha = e.softmax(dim=1)  # (B, L)
        context = (alpha.unsqueeze(2) * feats).sum(dim=1)  # (B, D)
        return context, alpha


class Decoder(nn.Module):
    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        self.config = c = config
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim)
        self.attention = Attention(c.feature_dim, c.hidden_dim, c.attention_dim)
        self.init_h = nn.Linear(c.feature_dim, c.hidden_dim)
        self.init_c = nn.Linear(c.feature_dim, c.hidden_dim)
        self.gate = nn.Linear(c.hidden_dim, c.feature_dim)  # the gating scalar beta, per channel
        self.lstm = nn.LSTMCell(c.embed_dim + c.feature_dim, c.hidden_dim)
        self.dropout = nn.Dropout(c.dropout)
        self.out = nn.Linear(c.hidden_dim, c.vocab_size)
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        nn.init.uniform_(self.out.weight, -0.1, 0.1)
        nn.init.zeros_(self.out.bias)

    def init_state(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """feats (B, L, D) -> h (B, H), c (B, H), feats_proj (B, L, A)"""
        mean = feats.mean(dim=1)  # (B, D)
        return self.init_h(mean), self.init_c(mean), self.attention.feature_proj(feats)

    def step(
        self,
        tokens: torch.Tensor,
        feats: torch.Tensor,
        feats_proj: torch.Tensor,
        h: torch.Tensor,
        c: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One word: tokens (B,) -> logits (B, V), h (B, H), c (B, H), alpha (B, L)."""
        context, alpha = self.attention(feats, feats_proj, h)  # (B, D), (B, L)
        context = torch.sigmoid(self.gate(h)) * context
        h, c = self.lstm(torch.cat([self.embed(tokens), context], dim=1), (h, c))
        return self.out(self.dropout(h)), h, c, alpha

    def forward(
        self, feats: torch.Tensor, captions: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing. feats (B, L, D); captions (B, T) as <start> w1 .. wn <end> <pad>..,
        sorted by length, longest first; lengths (B,) counts <start> and <end>.
        Returns logits (B, T-1, V) predicting captions[:, 1:], and alphas (B, T-1, L)."""
        B, T = captions.shape
        h, c, feats_proj = self.init_state(feats)
        steps = (lengths - 1).tolist()  # each caption predicts length-1 tokens
        logits = feats.new_zeros(B, T - 1, self.config.vocab_size)
        alphas = feats.new_zeros(B, T - 1, feats.shape[1])
        for t in range(max(steps)):
            n = sum(s > t for s in steps)  # captions still running, a prefix since they are sorted
            logit, h_n, c_n, alpha = self.step(
                captions[:n, t], feats[:n], feats_proj[:n], h[:n], c[:n]
            )
            h = torch.cat([h_n, h[n:]])
            c = torch.cat([c_n, c[n:]])
            logits[:n, t] = logit
            alphas[:n, t] = alpha
        return logits, alphas


def loss_fn(
    logits: torch.Tensor,
    alphas: torch.Tensor,
    captions: torch.Tensor,
    lengths: torch.Tensor,
    attention_penalty: float,
) -> torch.Tensor:
    """Cross-entropy on real tokens plus the doubly stochastic penalty: over a caption, each
    position's attention should sum to about 1 (Xu et al. 2015, eq. 14)."""
    targets = captions[:, 1:]  # (B, T-1)
    mask = torch.arange(targets.shape[1]).unsqueeze(0) < (lengths - 1).unsqueeze(1)  # (B, T-1)
    ce = F.cross_entropy(logits[mask], targets[mask])
    penalty = ((1.0 - alphas.sum(dim=1)) ** 2).mean()  # alphas (B, T-1, L) summed over time
    return ce + attention_penalty * penalty
