"""Binary codes made after training from continuous CCSR codes, against trained ones.

Issue 12 asks how much of the quantization gap a binarization applied after
training can close. This script fits ``CCSR(binarize=None)`` (continuous
codes) and ranks by Hamming distance between

* ``sign``: the signs of the continuous codes (the paper's two-stage reading);
* ``itq``: the signs after ITQ's rotation (Gong & Lazebnik, CVPR 2011), one
  orthogonal ``R`` fitted on the users' and the items' codes stacked, so that
  ``<u R, v R> = <u, v>`` and only the quantization changes;
* ``itq-normalized``: the same with every code scaled to unit length before
  the rotation is fitted (items with long codes weigh no more than others),

and prints the protocol's metrics as one JSON line per row (MovieLens-1M:
per-user 80/20 split, relevance > 3, full ranking, tie-aware values too).
The trained sign codes of ``CCSR()`` are the reference (docs/quality.md).

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/posthoc_codes.py --bits 64
"""

from __future__ import annotations

import argparse
import copy
import json

import numpy as np

from sklearn_hashrec import CCSR
from sklearn_hashrec.binarization import sign_codes
from sklearn_hashrec.experiments import load_dataset


def itq_rotation(Z: np.ndarray, n_iter: int = 50, random_state: int = 0) -> np.ndarray:
    """ITQ's orthogonal ``R`` that brings ``Z R`` near its own signs.

    Alternates ``B = sign(Z R)`` and the orthogonal Procrustes solution
    ``R = W V^T`` of ``Z^T B = W S V^T``, from a random rotation; each step
    lowers ``||B - Z R||_F``.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_dims)
    n_iter : int, default=50
    random_state : int, default=0
        Seed of the starting rotation.

    Returns
    -------
    R : ndarray of shape (n_dims, n_dims), orthogonal.

    Examples
    --------
    >>> Z = np.random.default_rng(0).normal(size=(100, 4))
    >>> R = itq_rotation(Z)
    >>> bool(np.allclose(R @ R.T, np.eye(4)))
    True
    """
    rng = np.random.default_rng(random_state)
    R, _ = np.linalg.qr(rng.standard_normal((Z.shape[1], Z.shape[1])))
    for _ in range(n_iter):
        B = np.where(Z @ R >= 0, 1.0, -1.0)
        W, _, Vt = np.linalg.svd(Z.T @ B)
        R = W @ Vt
    return R


def with_codes(model, user_features: np.ndarray, item_features: np.ndarray):
    """A copy of fitted ``model`` whose codes are the signs of the given features."""
    binary = copy.copy(model)
    codes = {"user_codes_": sign_codes(user_features), "item_codes_": sign_codes(item_features)}
    # What fit derives from the codes (the packed item words), derived the same way.
    codes.update(binary._derived_attributes(codes))
    for name, value in codes.items():
        setattr(binary, name, value)
    return binary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data, protocol = load_dataset("ml-1m")
    protocol = protocol.with_options(ndcg_at=(10,), recall_at=(10,))
    train, test = protocol.split(data.data, args.seed)
    model = CCSR(n_bits=args.bits, binarize=None, random_state=args.seed).fit(train)
    users = model.user_codes_.astype(np.float64)
    items = model.item_codes_.astype(np.float64)

    def unit(Z):
        return Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)

    rows = {"continuous": model, "sign": with_codes(model, users, items)}
    R = itq_rotation(np.vstack([users, items]), random_state=args.seed)
    rows["itq"] = with_codes(model, users @ R, items @ R)
    R = itq_rotation(np.vstack([unit(users), unit(items)]), random_state=args.seed)
    rows["itq-normalized"] = with_codes(model, users @ R, items @ R)
    for name, fitted in rows.items():
        scores = protocol.evaluate(fitted, train, test)
        print(json.dumps({"row": name, "n_bits": args.bits, "seed": args.seed,
                          **{k: round(v, 4) for k, v in scores.items()}}), flush=True)


if __name__ == "__main__":
    main()
