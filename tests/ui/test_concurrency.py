"""Several chat clients while articles are uploaded and deleted through the same server.

The server shares one store, one keyword index and one set of models between
its request threads. Clients ask through the `/ask` API (gradio_client, each
its own thread) while the test adds and removes articles through the server's
backend, the way the Articles tab does. No request may fail or go unanswered,
and no answer may cite an article that did not exist at some moment while it
was being answered.
"""

from __future__ import annotations

import threading
import time

import pytest
from conftest import free_port

from ui.app import Backend, ServeConfig
from ui.server import serve

pytestmark = pytest.mark.slow

CLIENTS = 4
ROUNDS = 6
CHURN = 5


def _article(i: int) -> str:
    return (
        f"Glassworks festival number {i} opens in Varnholm\n\n"
        f"The glassworks festival number {i} opened in Varnholm on Saturday with {100 + i} furnaces lit at once, "
        "the organisers said. Visitors queued along the harbour to watch the glassblowers.\n"
    )


def test_chat_clients_while_articles_are_added_and_deleted(tmp_path, seed_store, minilm):
    pytest.importorskip("gradio_client")
    import shutil

    from gradio_client import Client

    store = tmp_path / "store"
    shutil.copytree(seed_store, store)
    backend = Backend(ServeConfig(store=store, generator="extractive"), embedder=minilm)
    demo, _url = serve(backend.config, host="127.0.0.1", port=free_port(), block=False, backend=backend)
    lock = threading.Lock()
    # doc_id -> [added at (upload started), deleted at (delete finished) or None]
    lifetimes: dict[str, list[float | None]] = {}
    records: list[tuple[float, float, dict]] = []
    errors: list[str] = []
    questions = [
        "Who ordered Russian troops to return to their permanent bases?",
        "How many furnaces were lit at the glassworks festival in Varnholm?",
        "Where did Putin invite Zelensky?",
        "Where does the glassworks festival take place?",
    ]

    def client_loop(n: int) -> None:
        try:
            client = Client(f"http://127.0.0.1:{demo.server_port}/", verbose=False)
            for r in range(ROUNDS):
                question = questions[(n + r) % len(questions)]
                started = time.monotonic()
                result = client.predict(question, "extractive", 5, api_name="/ask")
                with lock:
                    records.append((started, time.monotonic(), result))
        except Exception as err:  # noqa: BLE001 - every failure is reported by the assertion below
            with lock:
                errors.append(f"client {n}: {err!r}")

    def churn() -> None:
        try:
            for i in range(CHURN):
                path = tmp_path / f"festival-{i}.txt"
                path.write_text(_article(i))
                with lock:
                    lifetimes[path.name] = [time.monotonic(), None]
                report = backend.ingest([path])
                assert report.added == [path.name], report.summary()
                time.sleep(0.3)
                if i % 2 == 0:
                    assert backend.delete([path.name]) == []
                    with lock:
                        lifetimes[path.name][1] = time.monotonic()
        except Exception as err:  # noqa: BLE001
            with lock:
                errors.append(f"churn: {err!r}")

    try:
        threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(CLIENTS)]
        threads.append(threading.Thread(target=churn))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        assert not any(t.is_alive() for t in threads), "a client or the churn never finished"
    finally:
        demo.close()

    assert errors == []
    assert len(records) == CLIENTS * ROUNDS  # no lost answer
    seeds = {"000_c0fd83c34287717f.txt", "004_2c59799eda60ed9b.txt"}
    festival_answers = 0
    for started, finished, result in records:
        assert "error" not in result, result
        assert result["answer"], result
        for citation in result["citations"]:
            doc = citation["doc_id"]
            if doc in seeds:
                continue
            assert doc in lifetimes, f"cited an article that was never added: {doc}"
            added, deleted = lifetimes[doc]
            assert added <= finished and (deleted is None or deleted >= started), (
                f"{doc} was cited by an answer asked at {started:.2f}-{finished:.2f} but existed {added:.2f}-{deleted}"
            )
            festival_answers += 1
    # The store ends with exactly the articles that were kept.
    kept = {f"festival-{i}.txt" for i in range(CHURN) if i % 2}
    assert {a.id for a in backend.articles()} == seeds | kept
    assert festival_answers > 0  # the churned articles were really being answered from
