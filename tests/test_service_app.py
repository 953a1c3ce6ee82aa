"""The example HTTP service: answers equal the index's, bad input is a 4xx, concurrency is safe."""

import importlib.util
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_hashrec.pipeline import make_recommender_pipeline
from sklearn_hashrec.preprocessing import InteractionEncoder
from sklearn_hashrec.serving import ServingIndex

fastapi = pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

APP = Path(__file__).resolve().parents[1] / "examples" / "service" / "app.py"


def _service_module():
    spec = importlib.util.spec_from_file_location("hashrec_service_app", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def index(tmp_path_factory, quick_model):
    rng = np.random.default_rng(4)
    table = pd.DataFrame({"user": [f"u{u}" for u in rng.integers(0, 60, 900)],
                          "item": [f"m{i}" for i in rng.integers(0, 40, 900)]})
    pipe = make_recommender_pipeline(InteractionEncoder("user", "item"), quick_model("CCSR")).fit(
        table)
    path = tmp_path_factory.mktemp("service") / "index.npz"
    ServingIndex.from_model(pipe).save(path)
    return ServingIndex.load(path)


@pytest.fixture(scope="module")
def client(index):
    return TestClient(_service_module().create_app(index))


def test_answers_equal_the_index(client, index):
    reply = client.get("/users/u7/recommendations", params={"k": 5})
    assert reply.status_code == 200
    distances, items = index.recommend(["u7"], 5, return_distance=True)
    assert reply.json() == {"user_id": "u7", "items": items[0].tolist(),
                            "distances": distances[0].astype(int).tolist()}
    reply = client.post("/recommendations", json={"items": ["m3", "m9", "m12"], "k": 4})
    assert reply.status_code == 200
    assert reply.json()["items"] == index.recommend_history(["m3", "m9", "m12"], 4)[0].tolist()
    assert client.get("/health").json() == {"users": len(index.user_ids), "items": 40,
                                            "n_bits": 8, "fold_in": True}


@pytest.mark.parametrize("method, url, body, status, detail", [
    ("get", "/users/nobody/recommendations", None, 404, "unknown user id 'nobody'"),
    ("get", "/users/u7/recommendations?k=41", None, 422, "beyond the catalogue of 40"),
    ("get", "/users/u7/recommendations?k=0", None, 422, "greater than or equal to 1"),
    ("get", "/users/u7/recommendations?k=ten", None, 422, "valid integer"),
    ("post", "/recommendations", {"items": ["m3", "zz"]}, 422, "unknown item id"),
    ("post", "/recommendations", {"items": ["m3", "m3"]}, 422, "more than once"),
    ("post", "/recommendations", {"items": "m3"}, 422, "valid list"),
    ("post", "/recommendations", {"history": ["m3"]}, 422, "Field required"),
    ("post", "/recommendations", {"items": ["m3"], "values": [1, 2]}, 422, "one per item"),
    ("post", "/recommendations", {"items": ["m3"], "k": 99}, 422, "beyond the catalogue"),
])
def test_bad_input_is_a_clear_4xx_and_the_service_goes_on(client, method, url, body, status,
                                                           detail):
    reply = getattr(client, method)(url, **({"json": body} if body is not None else {}))
    assert reply.status_code == status
    assert detail in str(reply.json()["detail"])
    assert client.get("/users/u7/recommendations").status_code == 200


def test_malformed_json_is_a_4xx(client):
    reply = client.post("/recommendations", content=b"{not json",
                        headers={"content-type": "application/json"})
    assert reply.status_code == 422


def test_concurrent_requests_give_the_serial_answers(client, index):
    users = [str(u) for u in index.user_ids[:32]]
    serial = {u: client.get(f"/users/{u}/recommendations", params={"k": 6}).json()
              for u in users}
    found, errors = {}, []

    def ask(user):
        try:
            found[user] = client.get(f"/users/{user}/recommendations", params={"k": 6}).json()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and found == serial
