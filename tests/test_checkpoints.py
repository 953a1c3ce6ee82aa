"""Checkpoints: a fit killed mid-run resumes to the model of an uninterrupted run."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_hashrec import CCSR, CFCodeReg
from sklearn_hashrec.cli import main
from sklearn_hashrec.training import CheckpointError, CheckpointStore, read_checkpoint

# One process per run, one torch thread each: the runs must be comparable bit
# for bit, and a killed process must not share its state with the next.
FIT_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np, scipy.sparse as sp, torch
    torch.set_num_threads(1)
    from sklearn_hashrec import {name}
    X = sp.load_npz(sys.argv[1])
    checkpoint_dir = None if sys.argv[2] == "-" else sys.argv[2]
    model = {name}(random_state=3, checkpoint_dir=checkpoint_dir, **{params!r}).fit(X)
    np.savez(sys.argv[3], users=model.user_codes_, items=model.item_codes_,
             loss=np.asarray(model.loss_curve_), resumed=model.resumed_epochs_,
             epochs=model.n_epochs_)
""")

MAX_EPOCHS = 8
# Dropout draws from torch's global generator, early stopping keeps its best
# epoch: both must survive the kill.
CCSR_PARAMS = dict(n_bits=16, hidden_layer_sizes=(64,), dropout=0.2, batch_size=64,
                   max_epochs=MAX_EPOCHS, early_stopping=True, n_iter_no_change=MAX_EPOCHS)


@pytest.fixture(scope="module")
def interactions(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = sp.random(1000, 200, density=0.05, format="csr", random_state=rng, dtype=np.float32)
    X.data[:] = rng.integers(1, 6, X.nnz)
    path = tmp_path_factory.mktemp("data") / "X.npz"
    sp.save_npz(path, X)
    return path


def _command(data, checkpoint_dir, out, script_dir):
    script = script_dir / "fit.py"
    script.write_text(FIT_SCRIPT.format(name="CCSR", params=CCSR_PARAMS))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return [sys.executable, str(script), str(data), str(checkpoint_dir), str(out)], env


def test_a_killed_fit_resumes_to_the_uninterrupted_model(interactions, tmp_path):
    checkpoint_dir = tmp_path / "checkpoints"
    command, env = _command(interactions, "-", tmp_path / "whole.npz", tmp_path)
    subprocess.run(command, env=env, check=True, timeout=300)
    whole = np.load(tmp_path / "whole.npz")

    command, env = _command(interactions, checkpoint_dir, tmp_path / "killed.npz", tmp_path)
    process = subprocess.Popen(command, env=env)
    checkpoint = checkpoint_dir / "checkpoint.pt"
    deadline = time.monotonic() + 300
    try:
        # Kill as soon as two epochs are saved: mid-way through the third.
        while time.monotonic() < deadline and process.poll() is None:
            if checkpoint.exists() and read_checkpoint(checkpoint)["state"]["epoch"] >= 1:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, "the fit ended before it could be killed"
    assert not (tmp_path / "killed.npz").exists()
    saved_epoch = read_checkpoint(checkpoint)["state"]["epoch"]
    assert 1 <= saved_epoch < MAX_EPOCHS - 1

    command, env = _command(interactions, checkpoint_dir, tmp_path / "resumed.npz", tmp_path)
    subprocess.run(command, env=env, check=True, timeout=300)
    resumed = np.load(tmp_path / "resumed.npz")
    assert int(resumed["resumed"]) == saved_epoch + 1
    np.testing.assert_array_equal(resumed["loss"], whole["loss"])
    np.testing.assert_array_equal(resumed["users"], whole["users"])
    np.testing.assert_array_equal(resumed["items"], whole["items"])
    assert int(resumed["epochs"]) == int(whole["epochs"])
    assert not list(checkpoint_dir.glob(".checkpoint-*")), "a temporary file was left"


def test_every_torch_model_resumes_an_interrupted_fit(torch_model_name, quick_model, small_X,
                                                     tmp_path, monkeypatch):
    whole = quick_model(torch_model_name, max_epochs=4).fit(small_X)
    saves = []
    original_save = CheckpointStore.save

    def save_then_stop(store, state):
        original_save(store, state)
        saves.append(state["epoch"])
        if len(saves) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(CheckpointStore, "save", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        quick_model(torch_model_name, max_epochs=4, checkpoint_dir=tmp_path).fit(small_X)
    monkeypatch.setattr(CheckpointStore, "save", original_save)
    resumed = quick_model(torch_model_name, max_epochs=4, checkpoint_dir=tmp_path).fit(small_X)
    assert resumed.resumed_epochs_ == 2
    assert resumed.loss_curve_ == whole.loss_curve_
    np.testing.assert_array_equal(resumed.user_codes_, whole.user_codes_)
    np.testing.assert_array_equal(resumed.item_codes_, whole.item_codes_)


def _quick(checkpoint_dir, **params):
    return CCSR(n_bits=8, hidden_layer_sizes=(16,), max_epochs=2, batch_size=32,
                random_state=0, checkpoint_dir=checkpoint_dir, **params)


@pytest.fixture
def small(tmp_path):
    X = (np.random.default_rng(1).random((60, 40)) < 0.2).astype(np.float32)
    model = _quick(tmp_path).fit(X)
    return X, model, tmp_path / "checkpoint.pt"


def test_a_finished_checkpoint_returns_the_model_without_training(small):
    X, model, checkpoint = small
    again = _quick(checkpoint.parent).fit(X)
    assert model.resumed_epochs_ == 0 and again.resumed_epochs_ == 2
    np.testing.assert_array_equal(again.user_codes_, model.user_codes_)
    assert again.loss_curve_ == model.loss_curve_


@pytest.mark.parametrize("damage", ["flip", "truncate", "foreign"])
def test_a_damaged_checkpoint_is_refused(small, damage):
    X, _, checkpoint = small
    raw = bytearray(checkpoint.read_bytes())
    if damage == "flip":
        raw[-100] ^= 0xFF
    elif damage == "truncate":
        raw = raw[: len(raw) // 2]
    else:
        raw = bytearray(b"PK\x03\x04 not a checkpoint")
    checkpoint.write_bytes(bytes(raw))
    message = "not a sklearn-hashrec checkpoint" if damage == "foreign" else "corrupt"
    with pytest.raises(CheckpointError, match=message):
        _quick(checkpoint.parent).fit(X)


def test_a_checkpoint_of_another_fit_is_refused(small):
    X, _, checkpoint = small
    other_data = X.copy()
    other_data[0, 0] = 1 - other_data[0, 0]
    with pytest.raises(CheckpointError, match="data"):
        _quick(checkpoint.parent).fit(other_data)
    with pytest.raises(CheckpointError, match="param n_bits"):
        _quick(checkpoint.parent).set_params(n_bits=16).fit(X)
    with pytest.raises(CheckpointError, match="model"):
        CFCodeReg(n_bits=8, max_epochs=2, random_state=0,
                  checkpoint_dir=checkpoint.parent).fit(X)


def test_a_failed_write_keeps_the_previous_checkpoint(small, monkeypatch):
    _, _, checkpoint = small
    before = checkpoint.read_bytes()
    store = CheckpointStore(checkpoint.parent, {"model": "CCSR"})

    def interrupted(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.save({"epoch": 5})
    assert checkpoint.read_bytes() == before
    assert not list(checkpoint.parent.glob(".checkpoint-*"))


def test_fitting_does_not_change_the_models_parameters(small):
    X, model, checkpoint = small
    assert model.get_params()["checkpoint_dir"] == checkpoint.parent


def test_cli_fit_writes_and_resumes_checkpoints(tmp_path, capsys):
    data = tmp_path / "ratings.csv"
    rng = np.random.default_rng(0)
    rows = [f"u{u},i{rng.integers(0, 30)},{rng.integers(1, 6)}" for u in range(40)
            for _ in range(5)]
    data.write_text("\n".join(rows) + "\n")
    command = ["fit", "--data", str(data), "--model", "CCSR", "--params",
               '{"n_bits": 8, "max_epochs": 2, "random_state": 0}',
               "--checkpoint-dir", str(tmp_path / "ckpt"), "--out", str(tmp_path / "m.joblib")]
    assert main(command) == 0
    assert (tmp_path / "ckpt" / "checkpoint.pt").exists()
    assert main(command) == 0
    assert "resumed from" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="takes no --checkpoint-dir"):
        main(["fit", "--data", str(data), "--model", "Top", "--checkpoint-dir",
              str(tmp_path / "other")])
