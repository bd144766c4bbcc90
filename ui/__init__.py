"""The Gradio web chat (see issue: the web chat). Nothing here yet."""
