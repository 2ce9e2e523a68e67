"""Redis Cluster: counters spread over three primaries, exact; a slot move is followed."""

import threading
from collections import Counter as Tally

import pytest

from counter import store
from counter.names import Counter
from counter.store.connection import get_client
from counter.store.keys import counter_key
from tests.servers import ClusterTopology

pytestmark = pytest.mark.real_redis


@pytest.fixture
def cluster(point_store_at, tmp_path):
    topology = ClusterTopology(tmp_path).start()
    point_store_at(cluster_nodes=topology.addresses)
    yield topology
    topology.stop()


def _slot_owners(topology, counters) -> set[int]:
    client = get_client()
    return {client.get_node_from_key(counter_key(counter, "n")).port for counter in counters}


def test_a_thousand_counters_over_three_primaries_are_exact(cluster):
    counters = [Counter("cl", f"c{i}") for i in range(1000)]
    for counter in counters:
        for visitor in ("a", "b", "a"):
            store.hit(counter, visitor_id=visitor)
    assert _slot_owners(cluster, counters) == {node.port for node in cluster.nodes}
    for counter in counters[::50]:
        stats = store.stats(counter, days=2)
        assert (stats.total, stats.today.hits, stats.today.uniques, stats.uniques) == (3, 3, 2, 2)
    totals = [store.total(counter) for counter in counters]
    assert totals == [3] * 1000


def test_api_and_service_stats_work_on_a_cluster(cluster, client):
    client.defaults.update(HTTP_HOST="localhost", HTTP_USER_AGENT="Mozilla/5.0 Firefox/133")
    assert client.get("/create?namespace=clu&key=api&value=10").status_code == 200
    assert client.get("/hit/clu/api").json() == {"value": 11}
    assert client.get("/stats").json()["keys_created"] == 1
    assert client.post("/e/cl.site", data=b"/x", content_type="text/plain").status_code == 204
    view = b'{"p": "/y", "s": "newsletter"}'  # dimensions: in the site's slot, by its script
    assert client.post("/e/cl.site", data=view, content_type="text/plain").status_code == 204
    breakdown = "/api/v1/counters/cl.site/site/breakdown?dimension="
    assert client.get(breakdown + "page").json()["rows"][0]["hits"] == 1
    assert client.get(breakdown + "campaign").json()["rows"][0]["value"] == "newsletter"
    assert client.get("/d/cl.site/site").status_code == 200


def test_slot_migration_during_traffic_loses_no_acknowledged_hit(cluster):
    counters = [Counter("mig", f"k{i}") for i in range(200)]
    acknowledged = Tally()
    errors = [0]
    stop = threading.Event()

    def traffic(offset: int) -> None:
        i = offset
        while not stop.is_set():
            counter = counters[i % len(counters)]
            i += 7
            try:
                store.hit(counter, visitor_id=str(i))
                acknowledged[counter] += 1
            except store.StoreUnavailable:
                errors[0] += 1

    threads = [threading.Thread(target=traffic, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        cluster.reshard(cluster.nodes[0], cluster.nodes[1], 1000)
        cluster.reshard(cluster.nodes[2], cluster.nodes[0], 500)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert sum(acknowledged.values()) > 500
    for counter in counters:
        assert store.total(counter) == acknowledged[counter], counter
