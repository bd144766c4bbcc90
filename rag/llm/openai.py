"""A generator model behind any OpenAI-compatible chat endpoint.

Ollama, vLLM, the llama.cpp server, llama-cpp-python's server and hosted APIs
all speak it. Configured by arguments or by environment:
`RAG_OPENAI_BASE_URL` (e.g. http://127.0.0.1:8000/v1), `RAG_OPENAI_MODEL`,
`RAG_OPENAI_API_KEY` (also read from `OPENAI_API_KEY`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence

from ..errors import ConfigError, ModelError
from .base import Message


class OpenAICompatibleLLM:
    """Streams chat completions from an OpenAI-compatible server.

    Args:
        base_url: the API root, ending in `/v1`.
        model: the model name the server expects.
        api_key: sent as a bearer token when given.
        timeout: seconds to wait for the server (connect and between tokens).
    """

    def __init__(
        self, base_url: str | None = None, model: str | None = None, api_key: str | None = None, *, timeout: float = 120.0
    ) -> None:
        self.base_url = (base_url or os.environ.get("RAG_OPENAI_BASE_URL") or "").rstrip("/")
        if not self.base_url:
            raise ConfigError(
                "the openai generator needs a server: set RAG_OPENAI_BASE_URL (e.g. http://127.0.0.1:11434/v1 for Ollama)"
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"RAG_OPENAI_BASE_URL must start with http:// or https://, got {self.base_url!r}")
        self.model = model or os.environ.get("RAG_OPENAI_MODEL") or "default"
        self.api_key = api_key or os.environ.get("RAG_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")
        self.timeout = timeout
        self.name = f"openai:{self.model}"

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0, stop: Sequence[str] = ()
    ) -> Iterator[str]:
        import httpx

        body = {
            "model": self.model,
            "messages": [m.to_dict() for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if stop:
            body["stop"] = list(stop)[:4]  # the OpenAI API accepts at most 4
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = f"{self.base_url}/chat/completions"
        try:
            with httpx.stream("POST", url, json=body, headers=headers, timeout=self.timeout) as response:
                if response.status_code != 200:
                    detail = response.read().decode("utf-8", "replace")[:300]
                    raise ModelError(f"{url} answered {response.status_code}: {detail}")
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        delta = json.loads(data)["choices"][0].get("delta", {}).get("content")
                    except (ValueError, KeyError, IndexError):
                        continue
                    if delta:
                        yield delta
        except httpx.HTTPError as err:
            raise ModelError(f"cannot reach the model server at {self.base_url}: {err}") from err
