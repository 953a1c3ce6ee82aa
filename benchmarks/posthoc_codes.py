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

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/posthoc_codes.py --bits 64 \
        > docs/results/posthoc-codes.jsonl

ITQ is the package's (``sklearn_hashrec.binarization.itq_rotation``, uncentred).
"""

from __future__ import annotations

import argparse
import copy
import json

import numpy as np

from sklearn_hashrec import CCSR
from sklearn_hashrec.binarization import itq_rotation, sign_codes
from sklearn_hashrec.experiments import load_dataset
from sklearn_hashrec.ranking import pack_codes


def with_codes(model, user_features: np.ndarray, item_features: np.ndarray):
    """A copy of fitted ``model`` whose codes are the signs of the given features."""
    binary = copy.copy(model)
    binary.user_codes_ = sign_codes(user_features)
    binary.item_codes_ = sign_codes(item_features)
    # The packed item words that fit stores beside binary codes, in the kernel's layout.
    binary.item_codes_packed_ = np.asfortranarray(pack_codes(binary.item_codes_))
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
    # Uncentred: one rotation for both sides, and sign(u R) needs no stored mean.
    R = itq_rotation(np.vstack([users, items]), random_state=args.seed, center=False)
    rows["itq"] = with_codes(model, users @ R, items @ R)
    R = itq_rotation(np.vstack([unit(users), unit(items)]), random_state=args.seed,
                     center=False)
    rows["itq-normalized"] = with_codes(model, users @ R, items @ R)
    for name, fitted in rows.items():
        scores = protocol.evaluate(fitted, train, test)
        print(json.dumps({"row": name, "n_bits": args.bits, "seed": args.seed,
                          **{k: round(v, 4) for k, v in scores.items()}}), flush=True)


if __name__ == "__main__":
    main()
