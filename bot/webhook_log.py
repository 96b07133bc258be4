"""What the webhook server (python-telegram-bot's) logs about a delivery that is JSON but not an
Update: one warning saying so, never the delivery itself (users' texts and names). Such a
delivery is refused with 400 and the bot goes on serving. (A body that is not JSON at all is
refused with 500, and python-telegram-bot logs it at DEBUG only, without the body.)"""

import logging

# python-telegram-bot's webhook handler logs an undecodable Update on this logger, with the data
PTB_LOGGER, PTB_MESSAGE = "telegram.ext.Updater", "Something went wrong processing the data"
SAYS = "webhook: a delivery that is not an Update was refused"


class BadDelivery(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(PTB_MESSAGE):
            error = record.exc_info[1] if record.exc_info else None
            reason = f" ({type(error).__name__})" if error is not None else ""
            record.msg, record.args = SAYS + reason, None
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_bad_deliveries() -> None:
    """Install the filter (once per process is enough; twice does no harm)."""
    logger = logging.getLogger(PTB_LOGGER)
    if not any(isinstance(f, BadDelivery) for f in logger.filters):
        logger.addFilter(BadDelivery())
