#!/usr/bin/env python3
"""Reads a checkpoint written by neuralode (tests/train/checkpoint_test.cpp,
SafetensorsInterop.PythonReadsOurCheckpointExactly) twice: with safetensors.numpy, and with plain
numpy + json + struct to show no library is needed, and checks names, dtypes, shapes, values and
metadata exactly. With OUT, also writes EXPECTED there with safetensors.numpy.save_file, for the
C++ test to read back (the other direction). Usage: safetensors_interop.py FILE [OUT].
Exit 0 when both readers agree with EXPECTED; 1 on a mismatch; 2 when a Python module is missing
(the message says how to install it).
"""
import json
import struct
import sys

try:
    import numpy as np
except ImportError:
    print("safetensors_interop: the Python module 'numpy' is missing for " + sys.executable +
          "; install it with `python3 -m pip install numpy safetensors` (see docs/training.md)")
    sys.exit(2)
try:
    import safetensors
    import safetensors.numpy
except ImportError:
    print("safetensors_interop: the Python module 'safetensors' is missing for " + sys.executable +
          "; install it with `python3 -m pip install safetensors` (see docs/training.md)")
    sys.exit(2)

# What the C++ test writes; keep the two in step.
EXPECTED = {
    "params.0.weight": np.array([[-1.0, -0.5, 0.0], [0.5, 1.0, 1.5]], dtype=np.float32),
    "params.0.bias": np.array([1.0 / 3.0, -2.5, 1e-300], dtype=np.float64),
    "counts": np.array([[-(1 << 40), 0], [7, 1 << 62]], dtype=np.int64),
    "mask": np.array([0, 1, 127, 255], dtype=np.uint8),
    "scalar": np.array(3.25, dtype=np.float64),
}
EXPECTED_METADATA = {"iteration": "17", "config": '{"lr":0.001}', "optimizer": "adam"}
DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "U8": np.uint8}

failures = []


def check(reader, tensors, metadata):
    if set(tensors) != set(EXPECTED):
        failures.append(f"{reader}: names {sorted(tensors)} != {sorted(EXPECTED)}")
        return
    for name, want in EXPECTED.items():
        got = tensors[name]
        if got.dtype != want.dtype or got.shape != want.shape:
            failures.append(f"{reader}: {name}: {got.dtype}{got.shape} != {want.dtype}{want.shape}")
        elif not np.array_equal(got, want):
            failures.append(f"{reader}: {name}: values {got!r} != {want!r}")
    if metadata != EXPECTED_METADATA:
        failures.append(f"{reader}: metadata {metadata!r} != {EXPECTED_METADATA!r}")


def read_plain(path):
    """The whole format in a few lines: u64 LE length, JSON header, little-endian data."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    if (8 + n) % 8 != 0:
        failures.append(f"plain numpy: header length {n} does not align the data to 8 bytes")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    body = data[8 + n:]
    tensors, end = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, stop = info["data_offsets"]
        if begin != end:
            failures.append(f"plain numpy: {name} starts at {begin}, not right after the previous {end}")
        end = stop
        dtype = np.dtype(DTYPES[info["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(body[begin:stop], dtype=dtype).reshape(info["shape"]).astype(
            DTYPES[info["dtype"]])
    if end != len(body):
        failures.append(f"plain numpy: data section has {len(body)} bytes, tensors cover {end}")
    return tensors, metadata


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 1
    path = sys.argv[1]

    tensors = safetensors.numpy.load_file(path)
    with safetensors.safe_open(path, framework="np") as f:
        metadata = f.metadata() or {}
    before = len(failures)
    check("safetensors.numpy", tensors, metadata)
    if len(failures) == before:
        print(f"safetensors.numpy: ok (safetensors {safetensors.__version__})")

    before = len(failures)
    check("plain numpy", *read_plain(path))
    if len(failures) == before:
        print(f"plain numpy: ok (numpy {np.__version__})")

    if len(sys.argv) == 3:
        safetensors.numpy.save_file(EXPECTED, sys.argv[2], metadata=EXPECTED_METADATA)
        print(f"wrote {sys.argv[2]}")

    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
