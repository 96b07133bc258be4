"""`captionbot web`: the Streamlit page that captions a photo without Telegram."""
