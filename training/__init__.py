"""Rebuild the captioning model from Flickr8k: prepare, train, evaluate, export."""
