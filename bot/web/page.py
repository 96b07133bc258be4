"""The Streamlit script of `captionbot web`: a photo in, its caption and attention out.

Streamlit runs this file once per visit and again on every click; the model is loaded once per
process (`st.cache_resource`), and each visitor's last description lives in their session state.
"""

import logging
from functools import partial

import streamlit as st
from pydantic import ValidationError

from bot.settings import Settings, describe_error
from bot.texts import megabytes
from bot.web import logic
from bot.web.texts import (
    LANGUAGE_NAMES,
    LANGUAGES,
    doubt_reason,
    language_for,
    plain,
    text,
)

log = logging.getLogger(__name__)

DESCRIPTION_KEY = "description"


@st.cache_resource(show_spinner=False)
def shared_resources() -> logic.Resources:
    """The model and translator, made by the first visitor and shared by everyone after."""
    return logic.load_resources(Settings())


def choose_language() -> str:
    """The interface language switch; it starts at the browser's language."""
    default = language_for(st.context.locale)
    return st.radio(
        "Language / Язык",
        LANGUAGES,
        index=LANGUAGES.index(default),
        format_func=LANGUAGE_NAMES.__getitem__,
        horizontal=True,
        key="language",
        label_visibility="collapsed",
    )


def photo_bytes(language: str, max_bytes: int) -> bytes | None:
    """What the visitor gave: an uploaded file or a camera shot (in memory), or None."""
    t = partial(text, language)
    source = st.radio(
        t("source"),
        ("upload", "camera"),
        format_func=lambda option: t(f"source_{option}"),
        horizontal=True,
        key="source",
    )
    if source == "camera":  # only rendered when chosen: the browser asks for the camera then
        shot = st.camera_input(t("camera_label"), key="camera")
        return shot.getvalue() if shot is not None else None
    upload = st.file_uploader(
        t("upload_label", limit=megabytes(max_bytes, language)),
        type=list(logic.UPLOAD_TYPES),
        key="upload",
    )
    return upload.getvalue() if upload is not None else None


def show_description(description: logic.Description, language: str) -> None:
    t = partial(text, language)
    with st.container(key="caption"):
        if language == "ru" and description.russian:
            st.markdown(f"### {plain(description.russian)}")
            st.markdown(t("english_original", text=plain(description.caption)))
        else:
            st.markdown(f"### {plain(description.caption)}")
            if description.russian:
                st.markdown(t("russian_translation", text=plain(description.russian)))
        if not description.russian:
            st.caption(t("translation_missing"))
        st.caption(t("best_score", score=description.score))
    if description.doubt:
        st.warning(t("guess", reason=doubt_reason(language, description.doubt)), icon="⚠️")
    if description.tags:
        with st.container(key="tags"):
            st.markdown(f"**{t('tags_heading')}**")
            st.markdown(", ".join(f"{plain(label)} ({p:.0%})" for label, p in description.tags))
    show_alternatives(description, language)
    with st.container(key="attention"):
        st.subheader(t("attention_heading"))
        st.image(description.attention_jpeg, caption=t("attention_help"))


def show_alternatives(description: logic.Description, language: str) -> None:
    t = partial(text, language)
    with st.container(key="alternatives"):
        st.markdown(f"**{t('alternatives_heading')}**", help=t("alternatives_help"))
        if not description.alternatives:
            st.caption(t("no_alternatives"))
        for caption, score in description.alternatives:
            st.markdown(f"`{score:.2f}` {plain(caption)}")


def show_model_card(card: logic.ModelCard, language: str) -> None:
    t = partial(text, language)
    with st.sidebar, st.container(key="model_card"):
        st.header(t("card_heading"))
        st.markdown(t("card_what"))
        st.markdown(t("card_data", data=plain(card.data)))
        if card.bleu4 is not None and card.meteor is not None:
            st.markdown(t("card_scores", bleu4=card.bleu4, meteor=card.meteor))
        else:
            st.markdown(t("card_no_scores"))
        st.markdown(t("card_weaknesses"))


def describe_photo(resources: logic.Resources, data: bytes, language: str) -> None:
    """Read the photo; on the button, caption it; show this photo's description if there is one."""
    t = partial(text, language)
    max_bytes = resources.settings.max_file_bytes
    try:
        image = logic.read_photo(resources, data)
    except logic.UploadError as exc:
        size, limit = megabytes(len(data), language), megabytes(max_bytes, language)
        st.error(t(exc.key, size=size, limit=limit, detail=exc.detail), icon="🚫")
        return
    digest = logic.photo_digest(data)
    if st.button(t("describe"), type="primary", key="describe"):
        with st.spinner(t("working")):
            try:
                st.session_state[DESCRIPTION_KEY] = logic.describe(resources, image, digest)
            except Exception:  # a photo the model chokes on must not take the page down
                log.exception("web page: captioning failed")
                st.error(t("failed"), icon="🚫")
                return
    description = st.session_state.get(DESCRIPTION_KEY)
    if isinstance(description, logic.Description) and description.digest == digest:
        show_description(description, language)


def main() -> None:
    st.set_page_config(page_title="captionbot", page_icon="🖼️", layout="centered")
    language = choose_language()
    t = partial(text, language)
    st.title(t("title"))
    st.markdown(t("intro"))
    try:
        with st.spinner(t("loading")):
            resources = shared_resources()
    except ValidationError as exc:  # the details (secrets masked) are for the log only
        log.error("web page: %s", describe_error(exc))
        st.error(t("unavailable"))
        return
    except Exception:  # a missing or broken bundle: the page says so, the log says why
        log.exception("web page: cannot load the model")
        st.error(t("unavailable"))
        return
    show_model_card(resources.card, language)
    data = photo_bytes(language, resources.settings.max_file_bytes)
    if data is not None:
        describe_photo(resources, data, language)


main()
