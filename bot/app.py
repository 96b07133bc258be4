"""`captionbot run` and `captionbot worker`: the python-telegram-bot Application, its handlers (all
wired here), start-up and shutdown.

Three roles share the jobs table: `run` takes updates and captions (all in one, the default);
`run --no-worker` takes updates only (polling or webhook: it admits photos, answers commands and
buttons); `worker` takes no updates and captions jobs and sends their replies. Any number of
workers and webhook fronts can share one PostgreSQL database.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.handlers import (
    admin,
    caption_buttons,
    commands,
    errors,
    flood_gate,
    forget,
    group,
    history,
    inline,
    language,
    membership,
    private,
    stale_button,
)
from bot.images import enable_heic
from bot.loop_lag import LoopLag
from bot.metrics import Metrics
from bot.queue import IDLE_POLL_S, CaptionQueue
from bot.retention import HistoryPruner
from bot.send_budget import SendBudget
from bot.services import CONTEXT_TYPES, Services
from bot.settings import Settings, load_settings
from bot.storage import wakeups
from bot.storage.database import make_engine, make_sessions, upgrade_or_log
from bot.translation import Translator
from bot.typing_indicator import TypingIndicator
from bot.update_budget import UpdateBudget
from bot.webhook_log import quiet_bad_deliveries

if TYPE_CHECKING:  # the model (torch) is imported only by a process that captions
    from captioning.captioner import Captioner

log = logging.getLogger(__name__)

BOOTSTRAP_RETRIES = 3  # tries to reach Telegram at start-up before giving up

NO_TOKEN = (
    "TELEGRAM_BOT_TOKEN is not set. To get a token, open Telegram, talk to @BotFather, send "
    "/newbot and follow its questions; then put the token in the TELEGRAM_BOT_TOKEN environment "
    "variable (or in a .env file) and start the bot again. To caption a photo from the command "
    "line without Telegram: captionbot caption PHOTO.jpg"
)


def add_handlers(application: Application) -> None:
    """Every handler of the bot, in the order they are tried."""
    private_chat = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    application.add_handler(TypeHandler(Update, flood_gate.gate), group=-3)
    application.add_handler(  # before the commands: a channel's "/start" is not for the bot
        MessageHandler(filters.UpdateType.CHANNEL_POSTS, membership.channel_post)
    )
    application.add_handler(
        ChatMemberHandler(membership.my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(CommandHandler("start", commands.start))
    application.add_handler(CommandHandler("help", commands.help_command))
    application.add_handler(CommandHandler("lang", language.lang, filters=private_chat))
    application.add_handler(CommandHandler("history", history.history))
    application.add_handler(CommandHandler("forget", forget.forget))
    application.add_handler(CommandHandler("lang", group.lang, filters=groups))
    application.add_handler(CommandHandler("caption", group.caption))
    application.add_handler(CommandHandler("auto", group.auto))
    application.add_handler(CommandHandler("stats", admin.stats))
    application.add_handler(  # in a group, only administrators get to the /lang buttons
        CallbackQueryHandler(group.guard_lang_button, pattern=language.CALLBACK_PATTERN), group=-1
    )
    application.add_handler(
        CallbackQueryHandler(caption_buttons.attention, pattern=caption_buttons.ATTENTION_PATTERN)
    )
    application.add_handler(
        CallbackQueryHandler(
            caption_buttons.alternatives, pattern=caption_buttons.ALTERNATIVES_PATTERN
        )
    )
    application.add_handler(InlineQueryHandler(inline.inline_query))
    application.add_handler(
        MessageHandler(groups & (filters.PHOTO | filters.Document.IMAGE), group.on_photo)
    )
    application.add_handler(
        CallbackQueryHandler(language.lang_button, pattern=language.CALLBACK_PATTERN)
    )
    application.add_handler(
        CallbackQueryHandler(history.history_page, pattern=history.CALLBACK_PATTERN)
    )
    application.add_handler(
        CallbackQueryHandler(forget.forget_button, pattern=forget.CALLBACK_PATTERN)
    )
    application.add_handler(CallbackQueryHandler(stale_button.stale))  # no other took the press
    application.add_handler(MessageHandler(private_chat & filters.PHOTO, private.on_photo))
    application.add_handler(
        MessageHandler(private_chat & filters.Document.ALL, private.on_document)
    )
    application.add_handler(MessageHandler(private_chat & filters.COMMAND, commands.unknown))
    application.add_handler(MessageHandler(private_chat & filters.TEXT, private.on_text))
    application.add_handler(
        MessageHandler(private_chat & filters.ATTACHMENT, private.on_other_media)
    )
    application.add_error_handler(errors.log_error)


async def on_start(application: Application) -> None:
    """After the bot is initialised, before updates flow: command menus, then the worker."""
    try:
        await application.bot.set_my_commands(commands.command_list("en"))
        await application.bot.set_my_commands(commands.command_list("ru"), language_code="ru")
    except TelegramError as exc:
        log.warning("could not register the command list: %s", exc)
    start_services(application.bot_data.services)


def start_services(services: Services) -> None:
    """Metrics, the loop's lag, history pruning and the worker (if this process has one)."""
    if services.settings.metrics_port is not None:
        services.metrics.serve(services.settings.metrics_port, services.settings.metrics_address)
    services.loop_lag.start()
    services.history.start()
    if services.worker is not None:
        services.worker.start()


async def on_stop(application: Application) -> None:
    """Updates have stopped: let the worker finish or hand back what is in flight."""
    services = application.bot_data.services
    if services.worker is not None:
        await services.worker.stop()
    await services.history.stop()
    await services.loop_lag.stop()
    services.metrics.stop()


def build_application(
    settings: Settings,
    captioner: Captioner | None,
    requests: tuple[BaseRequest, BaseRequest] | None = None,
    *,
    webhook: bool = False,
) -> Application:
    """The bot, wired; without a `captioner` it has no worker (`run --no-worker`). With
    `webhook`, each update is answered once however many replicas get it. `requests` (for its
    calls, and for getUpdates) stand in for HTTP to Telegram (the in-process tests)."""
    if not settings.telegram_bot_token:
        raise ValueError(NO_TOKEN)
    sessions = make_sessions(make_engine(settings.database_url))
    builder = ApplicationBuilder()
    if requests is not None:
        builder = builder.request(requests[0]).get_updates_request(requests[1])
    application = (
        builder.token(settings.telegram_bot_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .concurrent_updates(True)
        .rate_limiter(
            SendBudget(
                per_second=settings.send_per_second,
                per_group_minute=settings.group_messages_per_minute,
            )
        )
        .post_init(on_start)
        .post_stop(on_stop)
        .context_types(CONTEXT_TYPES)
        .build()
    )
    queue = CaptionQueue(
        sessions, settings.queue_size, settings.rate_limit_per_minute, settings.user_queue_size
    )
    translator = Translator(settings, sessions)
    typing = TypingIndicator(application.bot)
    metrics = Metrics(sessions)
    worker = None
    if captioner is not None:
        from bot.worker import CaptionWorker

        worker = CaptionWorker(
            application.bot, queue, sessions, captioner, translator, typing, settings, metrics
        )
    updates = UpdateBudget(settings.updates_per_minute)
    history = HistoryPruner(sessions, settings.history_days, settings.history_prune_every_s)
    application.bot_data.services = Services(
        settings,
        sessions,
        queue,
        translator,
        typing,
        worker,
        updates,
        metrics,
        history,
        LoopLag(metrics.loop_lag, metrics.loop_lag_worst),
        webhook,
    )
    add_handlers(application)
    return application


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="take updates only, and leave captioning to `captionbot worker` processes sharing "
        "the database (PostgreSQL)",
    )
    parser.add_argument(
        "--webhook",
        metavar="URL",
        help="receive updates by webhook at this public HTTPS URL instead of long polling "
        "(listens on WEBHOOK_LISTEN:WEBHOOK_PORT; the secret token is WEBHOOK_SECRET, or one "
        "derived from the bot token, the same in every replica)",
    )


def prepare(with_model: bool) -> tuple[Settings, Captioner | None] | None:
    """Check the settings, migrate the database and load the model (`with_model`); None after
    logging what is wrong."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it would log every request, token too
    settings = load_settings()
    if settings is None:
        return None
    if not settings.telegram_bot_token:
        log.error("%s", NO_TOKEN)
        return None
    if not upgrade_or_log(settings.database_url):
        return None
    if not with_model:
        return settings, None
    enable_heic()
    from captioning.captioner import Captioner

    try:
        return settings, Captioner.from_pretrained(settings.model_path, settings.engine)
    except Exception as exc:
        log.error("MODEL_PATH=%s: cannot load the caption model: %s", settings.model_path, exc)
        return None


def run(args: argparse.Namespace) -> int:
    """`captionbot run`: check the settings, migrate the database, load the model, serve."""
    prepared = prepare(with_model=not args.no_worker)
    if prepared is None:
        return 2
    settings, captioner = prepared
    if captioner is None and not wakeups.is_postgresql(settings.database_url):
        log.warning(
            "--no-worker on SQLite: workers on this machine poll the file (every %g s when "
            "idle); several machines need PostgreSQL",
            IDLE_POLL_S,
        )
    webhook_url = args.webhook or settings.webhook_url
    application = build_application(settings, captioner, webhook=bool(webhook_url))
    try:
        serve(application, settings, webhook_url)
    except InvalidToken as exc:
        log.error(
            "TELEGRAM_BOT_TOKEN was refused by %s; check it with @BotFather (%s)",
            settings.telegram_base_url,
            type(exc).__name__,
        )
        return 2
    except NetworkError as exc:
        log.error(
            "cannot reach the Bot API at TELEGRAM_BASE_URL=%s: %s", settings.telegram_base_url, exc
        )
        return 2
    return 0


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    """`captionbot worker` has no options: its settings are the bot's."""


def run_worker(_args: argparse.Namespace) -> int:
    """`captionbot worker`: caption jobs and send their replies, taking no updates, until
    SIGINT/SIGTERM."""
    prepared = prepare(with_model=True)
    if prepared is None:
        return 2
    settings, captioner = prepared
    application = build_application(settings, captioner)
    try:
        asyncio.run(serve_worker(application))
    except InvalidToken as exc:
        log.error("TELEGRAM_BOT_TOKEN was refused (%s)", type(exc).__name__)
        return 2
    except NetworkError as exc:
        log.error("cannot reach the Bot API at %s: %s", settings.telegram_base_url, exc)
        return 2
    return 0


async def serve_worker(application: Application) -> None:
    """The Application without its updater: initialised (the bot, its send budget), the worker
    started, until a signal asks it to stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with application:
        start_services(application.bot_data.services)
        await stop.wait()
        log.info("stopping the worker")
        await on_stop(application)


def serve(application: Application, settings: Settings, webhook_url: str | None) -> None:
    """Take updates until SIGINT/SIGTERM: by webhook if there is a URL, else by long polling."""
    if webhook_url:
        log.info("receiving updates by webhook at %s", webhook_url)
        quiet_bad_deliveries()
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlparse(webhook_url).path.lstrip("/"),
            webhook_url=webhook_url,
            secret_token=settings.webhook_secret_token(),
            allowed_updates=Update.ALL_TYPES,
            bootstrap_retries=BOOTSTRAP_RETRIES,
        )
    else:
        log.info("receiving updates by long polling")
        application.run_polling(
            allowed_updates=Update.ALL_TYPES, bootstrap_retries=BOOTSTRAP_RETRIES
        )
