"""Telegram update handlers, one module per kind of conversation; wired in bot/app.py."""
