#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses into fuzz/corpus/<reader>/ (small valid inputs,
a few hundred bytes each, in the layouts the harnesses' header comments describe). The output is
checked in; rerun this after changing a harness's input layout: python3 fuzz/make_corpus.py"""
import gzip
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"


def put(reader, name, data):
    d = ROOT / reader
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


# ---- image_data: [num_classes - 1][u16 LE image length][image file][label file] ----------------
def idx_images(count, rows, cols):
    pixels = bytes((7 * i + 3) % 256 for i in range(count * rows * cols))
    return struct.pack(">IIII", 0x803, count, rows, cols) + pixels


def idx_labels(labels):
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


def idx_input(num_classes, images, labels):
    return bytes([num_classes - 1]) + struct.pack("<H", len(images)) + images + labels


put("image_data", "plain_3x4x4", idx_input(10, idx_images(3, 4, 4), idx_labels([0, 9, 4])))
put("image_data", "gzip_2x3x5",
    idx_input(10, gzip.compress(idx_images(2, 3, 5), mtime=0), gzip.compress(idx_labels([1, 2]), mtime=0)))
put("image_data", "mixed_empty_set", idx_input(2, idx_images(0, 28, 28), gzip.compress(idx_labels([]), mtime=0)))
put("image_data", "one_pixel_256_classes", idx_input(256, idx_images(1, 1, 1), idx_labels([255])))


# ---- checkpoint: a safetensors file as write_checkpoint writes it --------------------------------
def mt19937_64_text(seed):
    """std::mt19937_64's operator<< text (libstdc++): the 312 state words, then the index 312."""
    x = [seed]
    for i in range(1, 312):
        x.append((6364136223846793005 * (x[-1] ^ (x[-1] >> 62)) + i) % 2**64)
    return " ".join(map(str, x)) + " 312"


def safetensors(tensors, metadata):
    header, data = {}, b""
    for name, dtype, shape, payload in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


f32 = lambda *v: struct.pack(f"<{len(v)}f", *v)
f64 = lambda *v: struct.pack(f"<{len(v)}d", *v)
run_metadata = {"iteration": "12", "optimizer": "sgd", "optimizer.num_steps": "12",
                "optimizer.learning_rate": "0.10000000000000001", "epoch": "2"}
put("checkpoint", "run_f32", safetensors(
    [("params.linear.weight", "F32", [2, 3], f32(1, 2, 3, 4, 5, 6)),
     ("params.linear.bias", "F32", [2], f32(0.5, -0.5)),
     ("optim.momentum_buffer", "F32", [8], f32(*range(8)))], run_metadata))
put("checkpoint", "run_f64", safetensors(
    [("params.w", "F64", [3], f64(1, 2, 3)), ("optim.exp_avg", "F64", [3], f64(0, 0, 0)),
     ("optim.exp_avg_sq", "F64", [3], f64(1, 1, 1))], {**run_metadata, "optimizer": "adam"}))
put("checkpoint", "all_dtypes", safetensors(
    [("a", "U8", [3], b"\x01\x02\x03"), ("b", "I64", [], struct.pack("<q", -7)),
     ("c", "F32", [0, 4], b""), ("d", "F64", [1, 1], f64(2.5))], {"config": '{"model":"odenet"}'}))
put("checkpoint", "rng_state", safetensors([], {"rng_state": mt19937_64_text(5489), "iteration": "0"}))

# ---- metric_columns and metrics_log: metrics.jsonl lines as the trainers write them ----------------
odenet_lines = [
    {"epoch": e, "iteration": 6 * e, "train_loss": 1.8 / e, "train_accuracy": 0.4, "test_loss": 1.2,
     "test_accuracy": 0.5, "test_error": 0.5, "nfe_forward": 29.0, "nfe_backward": 24.0,
     "seconds": 0.09, "peak_rss_bytes": 36175872, "lr": 0.00625}
    for e in (1, 2, 3)]
jsonl = lambda lines: "".join(json.dumps(l, separators=(",", ":")) + "\n" for l in lines).encode()
put("metric_columns", "odenet", jsonl(odenet_lines))
put("metric_columns", "torn_and_null", jsonl(odenet_lines[:2]) + b'{"epoch":3,"seconds":null,"test_error":"x"}\n[1]\n{"epoch":4,"sec')
spiral_lines = [{"iteration": i, "loss": 0.6, "nfe_forward": 24.2, "solver": {"nfe": 31, "steps": 5}} for i in range(0, 50, 10)]
put("metrics_log", "iterations_upto_40", bytes([20]) + jsonl(spiral_lines))
put("metrics_log", "torn_last_line", bytes([5]) + jsonl(spiral_lines[:2]) + b'{"iteration":20,"lo')
put("metrics_log", "empty", bytes([0]))

# ---- odenet_table: config.json, NUL, metrics.jsonl ------------------------------------------------
config = {"augment": True, "batch_size": 16, "data": "/tmp/data", "epochs": 3, "grad": "adjoint",
          "lr": 0.05, "method": "dopri5", "model": "odenet", "momentum": 0.9, "num_params": 208266,
          "optimizer": "sgd", "seed": 0, "test_size": 0, "threads": 1, "tol": 0.001, "train_size": 0}
put("odenet_table", "odenet_run", json.dumps(config, indent=2).encode() + b"\0" + jsonl(odenet_lines))
put("odenet_table", "resnet_one_epoch",
    json.dumps({**config, "model": "resnet", "grad": "direct"}).encode() + b"\0" + jsonl(odenet_lines[:1]))
