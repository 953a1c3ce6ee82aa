"""An HTTP service over a ServingIndex: top-k for a user id or for a posted history.

Build the index from a fitted model once (``ServingIndex.from_model(model).save(...)``,
or ``hashrec fit`` then the two lines in docs/serving.md), then:

    pip install "sklearn-hashrec[serve]"
    python examples/service/app.py --index index.npz --port 8000
    curl 'localhost:8000/users/u1/recommendations?k=5'
    curl -X POST localhost:8000/recommendations -H 'content-type: application/json' \\
         -d '{"items": ["m1", "m7"], "k": 5}'

The endpoints are plain ``def`` functions: FastAPI runs each request in its
thread pool, and the index is only read, so requests are answered at the same
time with no lock. Errors are answers: an unknown user id is a 404; a
malformed history (not a list of ids, an unknown or repeated item) or a ``k``
beyond the catalogue a 422, each with a ``detail`` that says
what was wrong, and the service goes on serving.
"""

from __future__ import annotations

import argparse
import os

from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel, Field

from sklearn_hashrec.serving import ServingIndex


class History(BaseModel):
    """A new user's history: item ids, optionally with their values (ratings)."""

    items: list[str | int] = Field(max_length=100_000)
    values: list[float] | None = None
    k: int = Field(10, ge=1)


def create_app(index: ServingIndex) -> FastAPI:
    """The service's routes over one loaded index."""
    app = FastAPI(title="sklearn-hashrec recommendations")
    n_items = len(index.item_ids)

    def check_k(k: int) -> int:
        if k > n_items:
            raise HTTPException(422, f"k={k} is beyond the catalogue of {n_items} items.")
        return k

    def answer(distances, items) -> dict:
        present = distances[0] != float("inf")  # a user with fewer than k unseen items
        return {"items": items[0][present].tolist(),
                "distances": distances[0][present].astype(int).tolist()}

    @app.get("/health")
    def health() -> dict:
        return {"users": len(index.user_ids), "items": n_items, "n_bits": index.n_bits,
                "fold_in": index.can_fold_in}

    @app.get("/users/{user_id}/recommendations")
    def recommend_user(user_id: str, k: int = Query(10, ge=1)) -> dict:
        check_k(k)
        try:
            distances, items = index.recommend([user_id], k, return_distance=True)
        except KeyError:
            raise HTTPException(404, f"unknown user id {user_id!r}.") from None
        return {"user_id": user_id, **answer(distances, items)}

    @app.post("/recommendations")
    def recommend_history(history: History) -> dict:
        check_k(history.k)
        if not index.can_fold_in:
            raise HTTPException(422, "this index cannot fold in new histories (see "
                                     "ServingIndex.can_fold_in); ask by user id instead.")
        try:
            distances, items = index.recommend_history(
                history.items, history.k, values=history.values, return_distance=True)
        except (KeyError, ValueError) as exc:
            # KeyError's str() quotes its message; the message itself is the detail.
            raise HTTPException(422, exc.args[0] if exc.args else str(exc)) from None
        return answer(distances, items)

    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=os.environ.get("HASHREC_INDEX", "index.npz"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    import uvicorn

    uvicorn.run(create_app(ServingIndex.load(args.index)), host=args.host, port=args.port,
                log_level="warning")


if __name__ == "__main__":
    main()
