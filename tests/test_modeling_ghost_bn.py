"""Ghost batch norm: per-group statistics as 4-GPU DataParallel computes them."""

import pytest
import torch
import torch.nn.functional as F

from secret_core import BRANCHES
from secret_core.engine import save_checkpoint
from secret_core.errors import SecretError
from secret_core.modeling import GhostBatchNorm1d, GhostBatchNorm2d, build_model
from secret_core.pipeline.models import ghost_groups, new_model, restore


def test_groups_are_normalised_separately_and_first_updates_running_stats():
    torch.manual_seed(0)
    x = torch.randn(8, 3) * torch.tensor([1.0, 2.0, 3.0]) + 5.0
    ghost = GhostBatchNorm1d(3, groups=2)
    y = ghost(x)
    for half in (y[:4], y[4:]):  # each group has zero mean and unit (biased) variance
        assert torch.allclose(half.mean(0), torch.zeros(3), atol=1e-5)
        assert torch.allclose(half.var(0, unbiased=False), torch.ones(3), atol=1e-3)
    assert torch.allclose(y[4:], F.batch_norm(x[4:], None, None, training=True), atol=1e-6)
    # DataParallel keeps replica 0's statistics: momentum 0.1 towards the first group's mean
    assert torch.allclose(ghost.running_mean, 0.1 * x[:4].mean(0), atol=1e-6)
    assert int(ghost.num_batches_tracked) == 1
    ghost.eval()
    plain = torch.nn.BatchNorm1d(3).eval()
    plain.load_state_dict(ghost.state_dict())
    assert torch.equal(ghost(x), plain(x))  # evaluation uses running statistics as usual


def test_one_group_is_plain_batch_norm():
    torch.manual_seed(0)
    x = torch.randn(4, 2, 3, 3)
    ghost, plain = GhostBatchNorm2d(2, groups=1), torch.nn.BatchNorm2d(2)
    assert torch.allclose(ghost(x), plain(x))
    assert torch.allclose(ghost.running_var, plain.running_var)


def test_ghost_network_equals_separate_half_batches():
    """With every BN ghosted, a batch of 8 in 2 groups gives what two replicas of the plain
    network give on the two halves: exactly DataParallel's forward."""
    torch.manual_seed(0)
    ghost = build_model("resnet_tiny", 3, ghost_bn_groups=2)
    plain = build_model("resnet_tiny", 3)
    assert ghost.state_dict().keys() == plain.state_dict().keys()
    plain.load_state_dict(ghost.state_dict())
    x = torch.randn(8, 3, 32, 16)
    out = ghost(x)
    first, second = plain(x[:4]), plain(x[4:])
    for branch in BRANCHES:
        for key in ("feat", "bn", "logits"):
            joined = torch.cat([first[branch][key], second[branch][key]])
            assert torch.allclose(out[branch][key], joined, atol=1e-5), (branch, key)


def test_scope_neck_and_frozen_bias_and_errors():
    model = build_model("resnet_tiny", 2, ghost_bn_groups=4, ghost_bn_scope="neck")
    ghosts = [m for m in model.modules() if isinstance(m, GhostBatchNorm1d | GhostBatchNorm2d)]
    assert len(ghosts) == 3 and all(isinstance(g, GhostBatchNorm1d) for g in ghosts)
    assert not model.heads["top"].bn.bias.requires_grad
    everywhere = build_model("resnet_tiny", 2, ghost_bn_groups=4)
    assert isinstance(everywhere.backbone.stem[1], GhostBatchNorm2d)
    assert not everywhere.heads["global"].bn.bias.requires_grad
    with pytest.raises(SecretError, match=r"model\.bn_groups"):
        build_model("resnet_tiny", 2, ghost_bn_groups=0)
    with pytest.raises(SecretError, match="ghost_bn_scope"):
        build_model("resnet_tiny", 2, ghost_bn_groups=2, ghost_bn_scope="heads")


MODEL_CFG = {"arch": "resnet_tiny", "init": "none", "height": 32, "width": 16}


def test_bn_groups_key_reaches_training_batch_statistics(tmp_path):
    """model.bn_groups 2: in train mode each half of the batch is normalised with its own
    statistics and the running mean follows the first half only (DataParallel's replica 0);
    1 is plain BN; restore applies it too; eval mode is unaffected."""
    torch.manual_seed(0)
    x = torch.randn(8, 3, 32, 16)
    ghost = new_model({**MODEL_CFG, "bn_groups": 2}, 3)
    plain = new_model({**MODEL_CFG, "bn_groups": 1}, 3)
    assert not any(isinstance(m, GhostBatchNorm1d | GhostBatchNorm2d) for m in plain.modules())
    assert ghost_groups(MODEL_CFG) is None  # absent: the schema default 1
    plain.load_state_dict(ghost.state_dict())
    out, whole = ghost(x), plain(x)
    neck = ghost.heads["global"].bn
    for half in (slice(0, 4), slice(4, 8)):  # per-half zero mean of the BN-neck output
        assert torch.allclose(out["global"]["bn"][half].mean(0), torch.zeros(128), atol=1e-4)
    assert not torch.allclose(whole["global"]["bn"][:4].mean(0), torch.zeros(128), atol=1e-4)
    expected = 0.1 * out["global"]["feat"][:4].mean(0)  # momentum 0.1 from zeros
    assert torch.allclose(neck.running_mean, expected, atol=1e-5)
    ghost.eval()
    plain.load_state_dict(ghost.state_dict())
    plain.eval()
    for branch, value in ghost(x).items():
        assert torch.allclose(value, plain(x)[branch], atol=1e-6)
    path = tmp_path / "model.pt"
    save_checkpoint(path, model=plain, epoch=0, global_step=0)
    restored, teacher, _ = restore({**MODEL_CFG, "bn_groups": 4}, str(path), "cpu", True)
    for net in (restored, teacher.model):
        assert isinstance(net.backbone.stem[1], GhostBatchNorm2d)
        assert net.backbone.stem[1].groups == 4
    with pytest.raises(SecretError, match=r"model\.bn_groups"):
        new_model({**MODEL_CFG, "bn_groups": 0})
