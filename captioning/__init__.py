"""Photo captioning: ResNet-50 encoder, soft-attention LSTM decoder, beam search, model bundles."""
