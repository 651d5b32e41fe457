"""The start-up prefetch (stdlib HTTP over the UNIX socket) agrees with the SDK's list."""

from desktop.engine.prefetch import Prefetch
from desktop.state.containers import ContainerStore


def test_prefetch_matches_the_sdk_list(engine_host, client, run, make_container):
    cid = make_container(start=True, ports={"80/tcp": None})
    pf = Prefetch.start_for(engine_host)
    assert pf is not None and pf.wait(10) and pf.error is None
    info, rows = pf.result
    run(client.connect())
    assert info.id == client.info.id and info.version == client.info.version
    sdk = {c.id: c for c in run(client.list_containers())}
    pre = {c.id: c for c in rows}
    assert cid in pre and pre[cid] == sdk[cid]
    assert set(pre) <= set(sdk) | {cid}


def test_prefetch_is_only_for_unix_sockets():
    assert Prefetch.start_for("tcp://127.0.0.1:2376") is None


def test_prefetch_of_a_missing_socket_fails_quietly(tmp_path):
    pf = Prefetch.start_for(f"unix://{tmp_path}/nope.sock")
    assert pf.wait(5) and pf.result is None and pf.error is not None


def test_store_sync_all_diffs_instead_of_resetting(engine_host, client, run, make_container):
    a, b = make_container(), make_container()
    run(client.connect())
    store = ContainerStore()
    store.sync_all(run(client.list_containers()))
    events = []
    store.reset.connect(lambda: events.append("reset"))
    store.removed.connect(lambda ids: events.append(("removed", tuple(ids))))
    store.upserted.connect(lambda rows: events.append(("upserted", tuple(r.id for r in rows))))
    run(client.start(a))
    run(client.remove(b))
    store.sync_all(run(client.list_containers()))
    assert ("removed", (b,)) in events and ("upserted", (a,)) in events and "reset" not in events
