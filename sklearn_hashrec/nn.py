"""Network building blocks of the torch models, public for writing new ones.

* layers over wide, sparse interaction rows (:class:`InteractionInput`,
  :class:`InputLinear`, :func:`sparse_matmul`, :func:`sparse_linear`);
* MLPs and autoencoders (:func:`make_mlp`, :func:`make_autoencoder`,
  :func:`autoencoder_pair`, :func:`apply_mlp`) and the encoding of a batch
  or of whole matrices in chunks (:func:`encode_batch`, :func:`encode_rows`);
* losses (:func:`reconstruction_loss`, :func:`reconstruction_mse`,
  :func:`squared_error`);
* plain-data persistence of trained encoders (:func:`module_to_spec`,
  :func:`module_from_spec`).

The model base classes built on them are in :mod:`sklearn_hashrec.models.base`;
docs/writing-a-model.md shows how a new model uses both.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn import functional as F

from .training import sparse_tensor

__all__ = ["InputLinear", "InteractionInput", "apply_mlp", "autoencoder_pair", "encode_batch",
           "encode_rows", "input_scale", "make_autoencoder", "make_mlp", "module_from_spec",
           "module_to_spec", "mse_from_output_squares", "reconstruction_loss",
           "reconstruction_mse", "sparse_linear", "sparse_matmul", "squared_error"]


class InteractionInput(nn.Module):
    """What a network sees of an interaction row: 0/1 indicators, or scaled values."""

    def __init__(self, mode: str, scale: float):
        super().__init__()
        self.mode = mode
        self.register_buffer("scale", torch.tensor(float(scale)))

    def forward(self, values: torch.Tensor) -> torch.Tensor:
        if values.is_sparse:
            return torch.sparse_coo_tensor(values.indices(), self(values.values()), values.shape,
                                           is_coalesced=True, check_invariants=False)
        if self.mode == "binary":
            return (values != 0).to(values.dtype)
        return values * self.scale


class InputLinear(nn.Module):
    """A linear layer over wide, sparse interaction rows.

    The weight is stored ``(in_features, out_features)``, the layout in which
    a sparse row selects and sums weight rows (:func:`sparse_matmul`); with
    ``nn.Linear``'s layout every training step would copy the transposed
    weight and its gradient (a tenth of CCSR's fit time on MovieLens-1M).
    Initialised as ``nn.Linear``, from the same random draws.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        linear = nn.Linear(in_features, out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(linear.weight.detach().t().contiguous())
        self.bias = nn.Parameter(linear.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_sparse:
            return sparse_matmul(x, self.weight) + self.bias
        return torch.addmm(self.bias, x, self.weight)


def make_mlp(n_inputs: int, hidden_layer_sizes, n_outputs: int, dropout: float = 0.0, *,
             sparse_input: bool = False):
    """An MLP ``n_inputs -> hidden layers (ReLU) -> Dropout -> n_outputs``, linear output.

    ``sparse_input=True`` makes the first layer an :class:`InputLinear`, for
    networks that read interaction rows.
    """
    sizes = (*hidden_layer_sizes, n_outputs)
    layers, width = [], n_inputs
    for index, size in enumerate(sizes):
        last = index == len(sizes) - 1
        if last and dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(InputLinear(width, size) if index == 0 and sparse_input
                      else nn.Linear(width, size))
        if not last:
            layers.append(nn.ReLU())
        width = size
    return nn.Sequential(*layers)


def make_autoencoder(n_inputs: int, hidden_layer_sizes, n_bits: int, dropout: float):
    """Encoder ``n_inputs -> hidden layers -> dropout -> n_bits`` and its mirror decoder.

    ReLU between layers; the code layer and the reconstruction are linear.
    Dropout sits before the last encoder layer, as in the paper.
    """
    encoder = make_mlp(n_inputs, hidden_layer_sizes, n_bits, dropout, sparse_input=True)
    decoder = make_mlp(n_bits, tuple(reversed(hidden_layer_sizes)), n_inputs)
    return encoder, decoder


def autoencoder_pair(X, input_mode: str, hidden_layer_sizes, n_bits: int,
                     dropout: float) -> nn.ModuleDict:
    """User and item autoencoders over ``X``'s rows and columns, with the input transform."""
    n_users, n_items = X.shape
    user_encoder, user_decoder = make_autoencoder(n_items, hidden_layer_sizes, n_bits, dropout)
    item_encoder, item_decoder = make_autoencoder(n_users, hidden_layer_sizes, n_bits, dropout)
    return nn.ModuleDict({
        "input": InteractionInput(input_mode, input_scale(X)),
        "user_encoder": user_encoder, "user_decoder": user_decoder,
        "item_encoder": item_encoder, "item_decoder": item_decoder,
    })


def encode_batch(networks: nn.ModuleDict, batch):
    """Inputs and raw features ``f`` of a batch's users and items.

    The inputs stay sparse (COO tensors) when the batch's rows are: the first
    layer is then a sparse-dense product, so neither the input rows nor their
    gradient are ever densified.
    """
    x_users = networks["input"](batch.user_rows)
    x_items = networks["input"](batch.item_cols)
    return (x_users, apply_mlp(networks["user_encoder"], x_users),
            x_items, apply_mlp(networks["item_encoder"], x_items))


def apply_mlp(mlp: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``mlp(x)``; a sparse ``x`` is multiplied by the first linear layer, never densified.

    Nested ``Sequential`` containers are walked layer by layer; the input
    transform keeps ``x`` sparse, the first ``Linear`` makes it dense.
    """
    if not x.is_sparse:
        return mlp(x)
    for layer in _layers(mlp):
        if not x.is_sparse:
            x = layer(x)
        elif isinstance(layer, nn.Linear):
            x = sparse_linear(x, layer)
        elif isinstance(layer, (InputLinear, InteractionInput)):
            x = layer(x)
        else:
            x = layer(x.to_dense())
    return x


def sparse_matmul(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``x @ weight`` for a coalesced sparse COO ``x``: a weighted sum of rows of ``weight``.

    ``embedding_bag`` computes it, and its gradient, several times faster on
    CPU than torch's sparse-dense ``mm`` (17 ms against 69 ms forward and
    backward for a MovieLens-1M batch against a 6,040 x 256 weight).
    """
    rows, columns = x.indices()
    offsets = torch.searchsorted(rows, torch.arange(x.shape[0], device=rows.device))
    return F.embedding_bag(columns, weight, offsets, mode="sum", per_sample_weights=x.values())


def sparse_linear(x: torch.Tensor, layer: nn.Linear) -> torch.Tensor:
    """``layer(x)`` for a coalesced sparse COO ``x``, never densified."""
    return sparse_matmul(x, layer.weight.t().contiguous()) + layer.bias


def _layers(module: nn.Module):
    if isinstance(module, nn.Sequential):
        for child in module:
            yield from _layers(child)
    else:
        yield module


@torch.no_grad()
def encode_rows(encoder: nn.Module, X: sp.csr_matrix, batch_rows: int = 4096) -> np.ndarray:
    """Features of every row of ``X``: the encoder applied to sparse batches of rows.

    Memory is the batch's stored entries plus ``batch_rows`` x the widest
    layer, whatever the width of ``X``, and the work is proportional to the
    stored entries, not to ``n_rows x n_columns``. The results go into one
    preallocated array (appending per-batch arrays fragmented glibc's heap).
    """
    encoder.eval()
    n_rows = X.shape[0]
    out = None
    for start in range(0, n_rows, batch_rows):
        result = apply_mlp(encoder, sparse_tensor(X[start:start + batch_rows], "cpu")).numpy()
        if out is None:
            out = np.empty((n_rows, result.shape[1]), dtype=np.float32)
        out[start:start + len(result)] = result
    if out is None:
        return np.zeros((0, _layers_out(encoder)), dtype=np.float32)
    return out


def _layers_out(encoder: nn.Module) -> int:
    linear = (nn.Linear, InputLinear)
    return [layer for layer in _layers(encoder) if isinstance(layer, linear)][-1].out_features


def reconstruction_loss(networks: nn.ModuleDict, x_users, f_users, x_items, f_items):
    """Eq. 1 per input entry: MSE of the user and of the item autoencoder."""
    return (reconstruction_mse(networks["user_decoder"], f_users, x_users)
            + reconstruction_mse(networks["item_decoder"], f_items, x_items))


def reconstruction_mse(decoder: nn.Sequential, features: torch.Tensor,
                       target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of ``decoder(features)`` against ``target`` over every entry.

    A sparse ``target`` (training batches) never meets a dense reconstruction.
    The decoder ends in a linear layer ``o = W z + b``, so per row
    ``sum_j (o_j - x_j)^2 = z'(W'W)z + 2 z'W'b + b'b - 2 (x W) z - 2 x b + x'x``:
    it needs the ``h x h`` Gram matrix ``W'W`` and products with the stored
    entries of ``x`` only, not the ``batch x n_inputs`` output (400 MB for
    512 rows of 200,000 columns, and as much again for its gradient).
    """
    if not target.is_sparse:
        return F.mse_loss(decoder(features), target)
    last = decoder[-1]
    z = decoder[:-1](features)
    weight, bias = last.weight, last.bias  # (n_inputs, h), (n_inputs,)
    squares = (((z @ (weight.t() @ weight)) * z).sum() + 2 * (weight @ z.sum(0)) @ bias
               + z.shape[0] * (bias * bias).sum())
    return mse_from_output_squares(z, weight, bias, target, squares)


def mse_from_output_squares(z, weight, bias, target, squares) -> torch.Tensor:
    """MSE of ``o = W z + b`` against a sparse ``target``, given ``squares = sum o^2``.

    The rest of :func:`reconstruction_mse`'s expansion: the cross terms over
    the stored entries of ``target`` and their squares, per output entry.
    """
    values = target.values()
    cross = (sparse_matmul(target, weight) * z).sum() + values @ bias[target.indices()[1]]
    return (squares - 2 * cross + (values * values).sum()) / (z.shape[0] * weight.shape[0])


def input_scale(X) -> float:
    """1 / largest magnitude, so that ``"ratings"`` input lies in [-1, 1]."""
    return 1.0 / max(float(np.abs(X.data).max(initial=0.0)), 1e-12)


# Stored layer types with a weight and a bias. "linear" is also the first layer
# of encoders stored before InputLinear existed; apply_mlp still feeds those
# sparse rows through sparse_linear.
_WEIGHTED_LAYERS = {"linear": nn.Linear, "input_linear": InputLinear}


def module_to_spec(module: nn.Module) -> dict:
    """A trained encoder as plain data: layer types, settings and numpy float32 weights."""
    if isinstance(module, nn.Sequential):
        return {"type": "sequential", "layers": [module_to_spec(m) for m in module]}
    for kind, layer_class in _WEIGHTED_LAYERS.items():
        if isinstance(module, layer_class):
            return {"type": kind,
                    "weight": module.weight.detach().cpu().numpy().astype(np.float32),
                    "bias": module.bias.detach().cpu().numpy().astype(np.float32)}
    if isinstance(module, nn.ReLU):
        return {"type": "relu"}
    if isinstance(module, nn.Dropout):
        return {"type": "dropout", "p": float(module.p)}
    if isinstance(module, InteractionInput):
        return {"type": "input", "mode": module.mode, "scale": float(module.scale)}
    raise TypeError(f"Cannot store a {type(module).__name__} layer.")


def module_from_spec(spec: dict) -> nn.Module:
    """Inverse of :func:`module_to_spec`: the encoder on the CPU, in eval mode."""
    kind = spec["type"]
    if kind == "sequential":
        module = nn.Sequential(*[module_from_spec(s) for s in spec["layers"]])
    elif kind in _WEIGHTED_LAYERS:
        weight = torch.from_numpy(np.array(spec["weight"], dtype=np.float32))
        # nn.Linear stores (out, in), InputLinear (in, out): both take (in, out).
        shape = weight.shape[::-1] if kind == "linear" else weight.shape
        module = _WEIGHTED_LAYERS[kind](*shape)
        with torch.no_grad():
            module.weight.copy_(weight)
            module.bias.copy_(torch.from_numpy(np.array(spec["bias"], dtype=np.float32)))
    elif kind == "relu":
        module = nn.ReLU()
    elif kind == "dropout":
        module = nn.Dropout(spec["p"])
    elif kind == "input":
        module = InteractionInput(spec["mode"], spec["scale"])
    else:
        raise ValueError(f"Unknown layer type {kind!r} in a stored encoder.")
    return module.eval()


def squared_error(pred, block, unobserved_weight: float, targets=None,
                  unobserved_target: float = 0.0):
    """``sum_obs (t - pred)^2 + w * sum_unobs (t0 - pred)^2`` and the observed count.

    Observed entries are the non-zero ones of ``block``; ``targets`` default to
    ``block`` itself.
    """
    observed = block != 0
    targets = block if targets is None else targets
    total = torch.where(observed, (targets - pred) ** 2, 0.0).sum()
    if unobserved_weight > 0:
        total = total + unobserved_weight * torch.where(
            observed, 0.0, (unobserved_target - pred) ** 2).sum()
    return total, observed.sum().clamp_min(1)
