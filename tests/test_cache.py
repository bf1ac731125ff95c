"""The generation cache: hits, misses on any changed input, concurrent writers, kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from evalkit.cache import GenerationCache, cache_key

SAMPLING = {"temperature": 0.0, "max_tokens": 16, "seed": 0}


def test_key_changes_with_every_input() -> None:
    base = cache_key("fp", "vllm", SAMPLING, "text:Q")
    assert base == cache_key("fp", "vllm", dict(reversed(SAMPLING.items())), "text:Q")
    assert base != cache_key("fp2", "vllm", SAMPLING, "text:Q")
    assert base != cache_key("fp", "hf", SAMPLING, "text:Q")
    assert base != cache_key("fp", "vllm", {**SAMPLING, "max_tokens": 17}, "text:Q")
    assert base != cache_key("fp", "vllm", SAMPLING, "text:Q ")


def test_put_get_and_first_value_wins(tmp_path: Path) -> None:
    with GenerationCache(tmp_path / "c.sqlite") as cache:
        cache.put_many([("a", {"text": "合同"}), ("b", {"text": "x"})])
        cache.put_many([("a", {"text": "changed"})])
        assert cache.get_many(["a", "b", "missing"]) == {"a": {"text": "合同"}, "b": {"text": "x"}}
        assert len(cache) == 2
    with GenerationCache(tmp_path / "c.sqlite") as again:  # persisted
        assert again.get_many(["a"]) == {"a": {"text": "合同"}}


def test_file_digest_is_remembered_until_the_file_changes(tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\x00" * 1000)
    with GenerationCache(tmp_path / "c.sqlite") as cache:
        first = cache.file_digest(weights)
        assert cache.file_digest(weights) == first
        weights.write_bytes(b"\x01" * 1000)
        os.utime(weights, ns=(time.time_ns(), time.time_ns() + 10**9))
        assert cache.file_digest(weights) != first


WRITER = """
import sys
from evalkit.cache import GenerationCache
path, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with GenerationCache(path) as cache:
    for i in range(n):
        cache.put_many([(f"{tag}-{i}-{j}", {"i": i, "j": j}) for j in range(20)])
        print(i, flush=True)
"""


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), tag, "50"], stdout=subprocess.DEVNULL
        )
        for tag in ("p", "q", "r")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    with GenerationCache(path) as cache:
        assert len(cache) == 3 * 50 * 20


def test_kill_9_keeps_every_committed_batch(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), "k", "100000"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    for _ in range(30):  # wait until 30 batches are reported committed
        proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    with GenerationCache(path) as cache:
        n = len(cache)
        assert n >= 30 * 20 and n % 20 == 0  # whole batches only


def test_claims_split_work_between_runs_and_die_with_their_owner(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with GenerationCache(path) as a, GenerationCache(path) as b:
        a.put_many([("done", {"text": "x"})])
        mine, theirs = a.claim(["done", "k1", "k2"], "host:1:a")
        assert (mine, theirs) == (["k1", "k2"], [])  # cached keys are in neither list
        assert b.claim(["k1", "k2", "k3"], "host:2:b") == (["k3"], ["k1", "k2"])
        a.put_many([("k1", {"text": "y"})])  # a result releases its claim
        assert b.claim(["k1", "k2"], "host:2:b") == ([], ["k2"])
        a.release("host:1:a")
        assert b.claim(["k2"], "host:2:b") == (["k2"], [])


def test_a_claim_of_a_dead_process_or_gone_stale_is_taken_over(tmp_path: Path) -> None:
    import evalkit.cache as cache_module

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    host = cache_module.claim_owner().partition(":")[0]  # this host and PID namespace
    dead_owner = f"{host}:{dead.stdout.strip()}:x"
    live_owner = f"{host}:{os.getpid()}:y"
    with GenerationCache(tmp_path / "c.sqlite") as cache:
        cache.claim(["a"], dead_owner)
        cache.claim(["b"], live_owner)
        cache.claim(["c"], "another-host/1:1:z")
        cache.claim(["d"], f"{host.partition('/')[0]}/0:{dead.stdout.strip()}:w")  # a container
        assert cache.claim(["d"], "me") == ([], ["d"])  # same name, other PID namespace: alive
        assert cache.claim(["a", "b", "c"], "me") == (["a"], ["b", "c"])
        cache._db.execute(
            "UPDATE claims SET heartbeat = heartbeat - ?", (cache_module.STALE_AFTER + 1,)
        )
        assert cache.claim(["b", "c"], "me") == (["b", "c"], [])  # unrefreshed: stale


def test_runs_opening_a_new_cache_together_all_get_it(tmp_path: Path) -> None:
    """SQLite refuses a journal-mode switch at once while another connection opens the new
    file ("database is locked", no busy wait): every opener must still get the cache."""
    import threading

    for attempt in range(30):
        path, errors = tmp_path / f"c{attempt}.sqlite", []
        start = threading.Barrier(8)

        def open_cache(
            path: Path = path, start: threading.Barrier = start, errors: list = errors
        ) -> None:
            start.wait()
            try:
                with GenerationCache(path) as cache:
                    cache.put_many([(f"k{threading.get_ident()}", {"text": "x"})])
            except sqlite3.Error as e:
                errors.append(e)

        threads = [threading.Thread(target=open_cache) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with GenerationCache(path) as cache:
            assert len(cache) == 8
