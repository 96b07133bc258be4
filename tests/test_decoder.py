import torch

from captioning.decoder import loss_fn
from tests.helpers import tiny_decoder


def test_forward_shapes_and_padding() -> None:
    decoder = tiny_decoder(vocab_size=7, feature_dim=8)
    feats = torch.randn(3, 4, 8)  # (B, L, D)
    captions = torch.tensor([[1, 4, 5, 6, 2], [1, 4, 2, 0, 0], [1, 2, 0, 0, 0]])
    lengths = torch.tensor([5, 3, 2])
    logits, alphas = decoder(feats, captions, lengths)
    assert logits.shape == (3, 4, 7)
    assert alphas.shape == (3, 4, 4)
    # attention over the 4 positions sums to one on real steps, and is zero on padding
    assert torch.allclose(alphas[0].sum(-1), torch.ones(4))
    assert torch.allclose(alphas[1, :2].sum(-1), torch.ones(2))
    assert alphas[1, 2:].abs().sum() == 0 and alphas[2, 1:].abs().sum() == 0


def test_teacher_forcing_matches_step_by_step() -> None:
    decoder = tiny_decoder()
    feats = torch.randn(2, 4, 8)
    captions = torch.tensor([[1, 4, 5, 2], [1, 6, 2, 0]])
    lengths = torch.tensor([4, 3])
    logits, _ = decoder(feats, captions, lengths)
    h, c, proj = decoder.init_state(feats[1:])
    for t in range(2):
        step_logits, h, c, _ = decoder.step(captions[1:, t], feats[1:], proj, h, c)
        assert torch.allclose(step_logits[0], logits[1, t], atol=1e-6)


def test_loss_ignores_padding_and_penalises_attention() -> None:
    decoder = tiny_decoder()
    feats = torch.randn(2, 4, 8)
    captions = torch.tensor([[1, 4, 5, 2], [1, 6, 2, 0]])
    lengths = torch.tensor([4, 3])
    logits, alphas = decoder(feats, captions, lengths)
    plain = loss_fn(logits, alphas, captions, lengths, attention_penalty=0.0)
    with_penalty = loss_fn(logits, alphas, captions, lengths, attention_penalty=1.0)
    assert with_penalty > plain
    garbage = logits.clone()
    garbage[1, 2] = 100.0  # a padded position: changes nothing
    assert torch.equal(loss_fn(garbage, alphas, captions, lengths, 0.0), plain)
