"""The Telegram bot: settings, storage, queue and worker, translation and handlers."""
