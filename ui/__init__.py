"""The user interfaces, the top layer: the web chat (`ui.app`, served by `ui.server`) and the `rag`
command line (`ui.cli`). They import everything below them (core, index, rag, eval); nothing imports them."""
