"""`captionbot bench` and what it needs, in one place.

- `command.py`: `captionbot bench`, its options, the runs in order and the report
- `model.py`: timing the model alone, photos/s per batch size and one-photo latency
- `service.py`: the whole service under simulated users, and the flood scenario
- `fake_telegram.py`: a fake Bot API server on 127.0.0.1 (aiohttp); the e2e tests use it too
- `telegram_formatting.py`: how Telegram reads HTML and Markdown, for the fake server
- `loopback_server.py`: an aiohttp app on a thread and loop of its own, on a free local port
- `bot_process.py`: the real `captionbot run` process, started against the fake server
"""
