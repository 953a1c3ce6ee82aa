"""The training loop in parts (training/): samplers, trainer, callbacks, the model contract."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sklearn_hashrec import CCSR, CFCodeReg
from sklearn_hashrec.training import (
    BlockSampler,
    Callback,
    EarlyStopping,
    PairSampler,
    RowSampler,
    TorchHashRecommender,
    Trainer,
    wrapped_slice,
)


def one_epoch(sampler, X, seed=0):
    return list(sampler.epoch(X, torch.Generator().manual_seed(seed)))


@pytest.fixture
def rectangular():
    return sp.random(23, 9, density=0.4, random_state=0, format="csr", dtype=np.float32)


def test_block_sampler_visits_every_user_and_item(rectangular):
    steps = one_epoch(BlockSampler(5), rectangular)
    assert len(steps) == BlockSampler(5).n_steps(rectangular) == 5  # ceil(23 / 5)
    assert all(len(u) == 5 and len(i) == 5 for u, i in steps)
    users = np.concatenate([u for u, _ in steps])
    items = np.concatenate([i for _, i in steps])
    assert set(users) == set(range(23)) and set(items) == set(range(9))
    assert len(set(users[:23])) == 23  # a permutation, the smaller side wraps around


def test_row_sampler_takes_all_items(rectangular):
    steps = one_epoch(RowSampler(10), rectangular)
    assert len(steps) == 3
    assert all(np.array_equal(items, np.arange(9)) for _, items in steps)
    assert sorted(np.concatenate([u for u, _ in steps])[:23]) == list(range(23))


def test_pair_sampler_draws_observed_entries_without_replacement(rectangular):
    steps = one_epoch(PairSampler(4), rectangular)
    pairs = [(u, i) for users, items in steps for u, i in zip(users, items, strict=True)]
    assert all(rectangular[u, i] != 0 for u, i in pairs)
    first = pairs[: rectangular.nnz]
    assert len(set(first)) == len(first)


def test_samplers_draw_the_same_permutations(rectangular):
    # The random stream does not depend on the sampler: a block epoch and a row
    # epoch from the same seed visit users in the same order.
    block = np.concatenate([u for u, _ in one_epoch(BlockSampler(5), rectangular)])
    rows = np.concatenate([u for u, _ in one_epoch(RowSampler(5), rectangular)])
    np.testing.assert_array_equal(block[:23], rows[:23])


def test_wrapped_slice():
    order = np.arange(5)
    np.testing.assert_array_equal(wrapped_slice(order, 0, 3), [0, 1, 2])
    np.testing.assert_array_equal(wrapped_slice(order, 1, 3), [3, 4, 0])
    np.testing.assert_array_equal(wrapped_slice(order, 4, 9), order)


def tiny_regression():
    """A linear model fitted to a known target: a loop that learns, on a trivial task."""
    X = sp.csr_matrix(np.eye(6, 4, dtype=np.float32))
    torch.manual_seed(0)
    networks = torch.nn.ModuleDict({"w": torch.nn.Embedding(6, 1)})

    def loss(nets, batch):
        return ((nets["w"](batch.users).squeeze(1) - 3.0) ** 2).mean()

    return X, networks, loss


def make_trainer(**kwargs):
    settings = dict(learning_rate=0.3, max_epochs=50, alpha=lambda e: 1.0,
                    device=torch.device("cpu"), with_rows=False)
    return Trainer(RowSampler(3), **{**settings, **kwargs})


def test_trainer_minimises_the_loss_and_returns_cpu_networks():
    X, networks, loss = tiny_regression()
    state = make_trainer().train(networks, loss, X, seed=0)
    assert len(state.loss_curve) == 50 and state.loss_curve[-1] < 1e-3 < state.loss_curve[0]
    assert state.epoch == 49 and not state.networks.training
    assert all(p.grad is None for p in state.networks.parameters())


def test_a_callback_sees_every_epoch_and_can_stop():
    class StopAtThree(Callback):
        def __init__(self):
            self.seen = []

        def on_epoch_end(self, state):
            self.seen.append((state.epoch, state.loss_curve[-1]))
            state.logs["half loss"] = state.loss_curve[-1] / 2
            state.stop = state.epoch == 2

    X, networks, loss = tiny_regression()
    callback = StopAtThree()
    state = make_trainer(callbacks=[callback]).train(networks, loss, X, seed=0)
    assert [e for e, _ in callback.seen] == [0, 1, 2] and len(state.loss_curve) == 3
    assert state.history["half loss"] == pytest.approx([v / 2 for v in state.loss_curve])


def test_early_stopping_restores_the_best_epoch():
    X, networks, loss = tiny_regression()
    scores = iter([0.1, 0.5, 0.3, 0.2, 0.9])
    snapshots = []

    def evaluate(nets, alpha):
        snapshots.append(nets["w"].weight.detach().clone())
        return next(scores)

    state = make_trainer(callbacks=[EarlyStopping(evaluate, patience=2)]).train(
        networks, loss, X, seed=0)
    assert state.history["validation NDCG"] == [0.1, 0.5, 0.3, 0.2]  # stopped after 2 misses
    assert state.epoch == 1 and state.stop_reason == "early stop: best epoch 2"
    torch.testing.assert_close(state.networks["w"].weight, snapshots[1])


def test_non_finite_loss_stops_with_a_remedy(quick_model, small_X):
    with pytest.raises(FloatingPointError, match="Lower learning_rate"):
        quick_model("BinaryMF").fit(small_X * 1e18)


def test_the_model_contract_is_declared():
    with pytest.raises(TypeError, match="abstract"):
        TorchHashRecommender(8, binarize="sign", learning_rate=1e-3, max_epochs=1,
                             batch_size=4, alpha_schedule="exponential", alpha_growth=1.1,
                             early_stopping=False, validation_fraction=0.1,
                             n_iter_no_change=1, device="cpu", random_state=0, verbose=0)

    class Incomplete(TorchHashRecommender):
        def _build_networks(self, X):
            return torch.nn.ModuleDict()

    with pytest.raises(TypeError, match="_batch_loss"):
        Incomplete(8, binarize="sign", learning_rate=1e-3, max_epochs=1, batch_size=4,
                   alpha_schedule="exponential", alpha_growth=1.1, early_stopping=False,
                   validation_fraction=0.1, n_iter_no_change=1, device="cpu", n_jobs=None,
                   random_state=0, verbose=0)


def test_every_torch_model_shares_the_training_parameters(trained_name, quick_model):
    model = quick_model(trained_name)
    shared = TorchHashRecommender._shared_parameter_constraints
    assert set(shared) <= set(model.get_params())
    assert set(shared) <= set(type(model)._parameter_constraints)
    model.set_params(learning_rate=0.5, verbose=3)
    assert model.learning_rate == 0.5 and model.verbose == 3


def test_a_failed_fit_leaves_no_training_state(quick_model, small_X, monkeypatch):
    model = quick_model("CFCodeReg")
    before = set(vars(model))

    def broken(*args, **kwargs):
        raise RuntimeError("broken")

    monkeypatch.setattr(CFCodeReg, "_batch_loss", broken)
    with pytest.raises(RuntimeError):
        model.fit(small_X)
    assert set(vars(model)) == before


def test_same_random_state_same_codes(make_planted):
    X = make_planted()[0]
    params = dict(n_bits=16, hidden_layer_sizes=(32,), max_epochs=4, batch_size=64)
    a = CCSR(**params, random_state=0).fit(X)
    b = CCSR(**params, random_state=0).fit(X)
    c = CCSR(**params, random_state=1).fit(X)
    np.testing.assert_array_equal(a.user_codes_, b.user_codes_)
    np.testing.assert_array_equal(a.item_codes_, b.item_codes_)
    assert not np.array_equal(a.item_codes_, c.item_codes_)


def test_no_seed_differs_between_runs(small_X):
    a = CCSR(n_bits=16, hidden_layer_sizes=(16,), max_epochs=2).fit(small_X)
    b = CCSR(n_bits=16, hidden_layer_sizes=(16,), max_epochs=2).fit(small_X)
    assert not np.array_equal(a.item_codes_, b.item_codes_)


SCRIPT = textwrap.dedent("""
    import hashlib, scipy.sparse as sp
    from sklearn_hashrec import {name}
    X = sp.load_npz({path!r})
    model = {name}(n_bits=16, max_epochs=3, batch_size=32, random_state={seed}).fit(X)
    print(hashlib.sha256(model.user_codes_.tobytes() + model.item_codes_.tobytes()).hexdigest())
""")


def test_same_seed_same_codes_across_processes(torch_model_name, small_X, tmp_path):
    path = tmp_path / "X.npz"
    sp.save_npz(path, small_X)

    def run():
        script = SCRIPT.format(name=torch_model_name, path=str(path), seed=7)
        return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              check=True).stdout.strip()

    assert run() == run()


def test_early_stopping_keeps_the_best_epoch(planted):
    model = CCSR(n_bits=16, hidden_layer_sizes=(32,), max_epochs=30, batch_size=64,
                 learning_rate=1e-2, random_state=0, early_stopping=True,
                 n_iter_no_change=2).fit(planted[0])
    scores = model.validation_scores_
    assert 1 <= model.n_epochs_ <= len(scores) <= 30
    assert scores[model.n_epochs_ - 1] == max(scores)


def test_verbose_reports_progress_through_tqdm_and_logging(quick_model, small_X, capsys,
                                                            caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="sklearn_hashrec"):
        quick_model("CCSR", verbose=1, early_stopping=True, n_iter_no_change=1,
                    max_epochs=3).fit(small_X)
    records = [r.getMessage() for r in caplog.records if r.name == "sklearn_hashrec"]
    assert records[0].startswith("[CCSR] epoch 1/3 loss") and "validation NDCG" in records[0]
    captured = capsys.readouterr()
    assert captured.out == "" and "CCSR" in captured.err and "epoch" in captured.err  # the bar
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sklearn_hashrec"):
        quick_model("CCSR").fit(small_X)
    assert capsys.readouterr() == ("", "") and not caplog.records


def test_unavailable_cuda_is_a_clear_error(quick_model, small_X):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        quick_model("CCSR", device="cuda").fit(small_X)


def test_sparse_fit_never_densifies_the_whole_matrix(monkeypatch):
    # Any toarray() on the full users x items matrix would show up here.
    X = sp.random(3000, 2000, density=0.01, random_state=0, format="csr", dtype=np.float32)
    X.data[:] = 1
    largest = []
    original = sp.csr_matrix.toarray

    def spy(self, *args, **kwargs):
        largest.append(self.shape[0] * self.shape[1])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", spy)
    CCSR(n_bits=8, hidden_layer_sizes=(16,), max_epochs=1, batch_size=64, random_state=0).fit(X)
    # Training densifies batch rows (64 x 3000 at most); encoding at most 2**22 entries.
    assert max(largest) <= 2**22 < 3000 * 2000


def test_teacher_weights_follow_the_teachers_ranking(small_X):
    from sklearn_hashrec import PopularityRecommender
    from sklearn_hashrec.training import fitted_teacher, teacher_ranking_weights

    teacher = PopularityRecommender()
    fitted = fitted_teacher(teacher, small_X)
    assert fitted is not teacher and not hasattr(teacher, "seen_")  # a fitted clone
    weights = teacher_ranking_weights(fitted, 50, 4).toarray()
    counts = (small_X.toarray() != 0).sum(axis=0)
    order = np.lexsort((np.arange(30), -counts))
    for user in range(50):
        top = [i for i in order if small_X[user, i] == 0][:4]
        np.testing.assert_allclose(weights[user, top], 1 / np.log2(np.arange(4) + 2))
        assert np.count_nonzero(weights[user]) == 4
    with pytest.raises(ValueError, match="same data"):
        fitted_teacher(fitted, small_X[:20])


def test_a_teacher_reaches_the_loss_and_stays_untouched(small_X, quick_model):
    from sklearn_hashrec import EASE

    teacher = EASE(l2_reg=5.0)
    seen = []
    original = CCSR._batch_loss

    def spy(self, networks, batch):
        seen.append(set(batch.targets))
        return original(self, networks, batch)

    CCSR._batch_loss = spy
    try:
        taught = quick_model("CCSR", teacher=teacher).fit(small_X)
    finally:
        CCSR._batch_loss = original
    assert seen and all(keys == {"teacher"} for keys in seen)
    assert not hasattr(teacher, "item_weights_")
    plain = quick_model("CCSR").fit(small_X)
    assert taught.loss_curve_ != plain.loss_curve_
    again = quick_model("CCSR", teacher=EASE(l2_reg=5.0).fit(small_X)).fit(small_X)
    np.testing.assert_array_equal(again.item_codes_, taught.item_codes_)


def test_soft_labels_keep_positives_and_teach_the_rest():
    from sklearn_hashrec.training import soft_labels

    labels = torch.tensor([[1.0, 0.0, 0.0]])
    weights = torch.tensor([[0.5, 1.0, 0.0]])
    np.testing.assert_allclose(soft_labels(labels, weights, 0.6).numpy(), [[1.0, 0.6, 0.0]])
    np.testing.assert_allclose(soft_labels(labels, weights, 3.0).numpy(), [[1.0, 1.0, 0.0]])


def test_n_jobs_sets_torch_threads_for_the_fit_and_restores_them(torch_model_name, quick_model,
                                                                  small_X, monkeypatch):
    from joblib import cpu_count, parallel_config

    model = quick_model(torch_model_name)
    seen = []
    batch_loss = type(model)._batch_loss

    def recording(self, networks, batch):
        seen.append(torch.get_num_threads())
        return batch_loss(self, networks, batch)

    monkeypatch.setattr(type(model), "_batch_loss", recording)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        for n_jobs, expected in [(None, 1), (2, 2), (-1, cpu_count())]:
            seen.clear()
            model.set_params(n_jobs=n_jobs).fit(small_X)
            assert set(seen) == {expected}, n_jobs
            assert torch.get_num_threads() == 3
        with parallel_config(n_jobs=2):  # scikit-learn's convention for None
            seen.clear()
            model.set_params(n_jobs=None).fit(small_X)
        assert set(seen) == {2}
        with pytest.raises(ValueError, match="n_jobs=0"):
            model.set_params(n_jobs=0).fit(small_X)
        monkeypatch.setattr(type(model), "_batch_loss",
                            lambda *args: (_ for _ in ()).throw(RuntimeError("broken")))
        with pytest.raises(RuntimeError, match="broken"):
            model.set_params(n_jobs=2).fit(small_X)
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)
