"""A generator model behind any OpenAI-compatible chat endpoint.

Ollama, vLLM, the llama.cpp server, llama-cpp-python's server and hosted APIs
all speak it. Configured by arguments or by environment:
`RAG_OPENAI_BASE_URL` (e.g. http://127.0.0.1:8000/v1), `RAG_OPENAI_MODEL`,
`RAG_OPENAI_API_KEY`. `OPENAI_API_KEY` is never read: it belongs to OpenAI,
and sending it to whatever server `RAG_OPENAI_BASE_URL` names would leak it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from core.errors import ConfigError, ModelError
from core.settings import settings

from .base import Message


class OpenAICompatibleLLM:
    """Streams chat completions from an OpenAI-compatible server.

    Args:
        base_url: the API root, ending in `/v1`.
        model: the model name the server expects.
        api_key: sent as a bearer token when given.
        timeout: seconds to wait for the server (connect and between tokens).
        client: the `httpx.Client` to send requests with (default: one of its own;
            tests pass one with an `httpx.MockTransport`).
    """

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 120.0,
        client: Any = None,
    ) -> None:
        s = settings()
        self.base_url = (base_url or s.openai_base_url or "").rstrip("/")
        if not self.base_url:
            raise ConfigError(
                "the openai generator needs a server: set RAG_OPENAI_BASE_URL (e.g. http://127.0.0.1:11434/v1 for Ollama)"
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"RAG_OPENAI_BASE_URL must start with http:// or https://, got {self.base_url!r}")
        self.model = model or s.openai_model or "default"
        self.api_key = api_key or s.openai_api_key or None
        self.timeout = timeout
        self.name = f"openai:{self.model}"
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.Client(timeout=self.timeout)
        return self._client

    def close(self) -> None:
        """Close the HTTP client (the model registry does it at exit)."""
        if self._client is not None:
            self._client.close()

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
            with self.client.stream("POST", url, json=body, headers=headers, timeout=self.timeout) as response:
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
                        payload = json.loads(data)
                    except ValueError:
                        continue
                    if isinstance(payload, dict) and payload.get("error"):
                        # A server that fails mid-stream sends {"error": ...}: an error, not an empty reply (a refusal).
                        error = payload["error"]
                        detail = error.get("message", error) if isinstance(error, dict) else error
                        raise ModelError(f"the model server at {self.base_url} failed while answering: {detail}")
                    try:
                        delta = payload["choices"][0].get("delta", {}).get("content")
                    except (TypeError, KeyError, IndexError, AttributeError):
                        continue
                    if delta:
                        yield delta
        except httpx.HTTPError as err:
            raise ModelError(f"cannot reach the model server at {self.base_url}: {err}") from err
