#!/usr/bin/python3
"""Writes the committed seed corpora fuzz/corpus/<harness>/: small valid files of each
format plus a few malformed ones from the bad-input recipes (tests/bad-input/run_case.py),
so the fuzzers start past the magic bytes and the header parsers.

usage: make_corpus.py MAKE_SEED_HDF5 MAKE_HDF5   (the two HDF5 writers, built by hand:
       gcc fuzz/make_seed_hdf5.c / tests/data/make_hdf5.c $(pkg-config --cflags --libs hdf5-openmpi))
"""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "bad-input"))
import run_case as rc  # noqa: E402  (the recipe functions: raw, npy, labels, idx, head_of, weights)


def in_dir(name, make):
    d = os.path.join(HERE, "corpus", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cwd = os.getcwd()
    os.chdir(d)
    try:
        make()
    finally:
        os.chdir(cwd)


def npy_seeds():
    rc.npy("valid_3x4_f8_v1.npy", (3, 4))
    rc.npy("valid_3x4_f8_v2.npy", (3, 4), version=2)
    rc.npy("valid_3x2x2_f4_v3.npy", (3, 2, 2), "<f4", version=3)
    rc.npy("valid_4x2_u1.npy", (4, 2), "|u1")
    rc.npy("valid_4_i4_big.npy", (4,), ">i4")
    rc.labels("valid_labels_i8.npy", [0, 1, 2, 1, 0])
    rc.npy("valid_0x3.npy", (0, 3))
    rc.npy("bad_truncated.npy", (10, 3), "<f4", data_bytes=20)
    rc.npy("bad_fortran.npy", (3, 2), fortran=True)
    rc.npy("bad_huge.npy", (2**62, 4), data_bytes=16)
    rc.npy("bad_nan.npy", (2, 2), values=[1.0, float("nan"), 2.0, 3.0])
    rc.npy("bad_structured.npy", (4,), header="{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (4,), }")
    rc.npy("bad_shape_syntax.npy", (4, 2), header="{'descr': '<f8', 'fortran_order': False, 'shape': (4; 2), }")
    rc.raw("bad_header_len.npy", b"\x93NUMPY\x01\x00\x76\x00{")


def idx_seeds():
    rc.idx("valid_u8_5x2x2.idx", (5, 2, 2))
    rc.idx("valid_u8_5x2x2.idx.gz", (5, 2, 2), gz=True)
    rc.idx("valid_labels_u8_6.idx", (6,))
    rc.idx("valid_f4_3x2.idx", (3, 2), code=0x0D)
    rc.idx("valid_f8_2x2.idx.gz", (2, 2), code=0x0E, gz=True)
    rc.idx("valid_i2_4x1.idx", (4, 1), code=0x0B)
    rc.idx("valid_i4_3.idx", (3,), code=0x0C)
    rc.idx("bad_truncated.idx", (100, 7), data_bytes=30)
    rc.idx("bad_huge.idx", (4294967295, 4294967295, 4294967295), data_bytes=16)
    rc.idx("bad_huge.idx.gz", (1073741824, 784), gz=True, data_bytes=100)
    rc.idx("bad_dtype.idx", (5, 2), code=0x0A)
    rc.raw("bad_header.idx", bytes([0, 0, 8, 3, 0, 0]))
    with open("valid_u8_5x2x2.idx.gz", "rb") as f:
        rc.raw("bad_truncated.idx.gz", f.read()[:25])


def hdf5_seeds(make_seed, make_full):
    subprocess.run([make_seed, "valid_small.h5"], check=True)
    subprocess.run([make_full, "valid_test_file.h5"], check=True)
    rc.head_of("valid_small.h5", "bad_truncated_3000.h5", 3000)
    rc.head_of("valid_small.h5", "bad_truncated_800.h5", 800)
    rc.npy("bad_not_hdf5.h5", (4, 4))


WIDTHS = [3, 4, 2]


def manifest(**change):
    m = {"format": "hessa-weights", "version": 1, "model": "mlp", "widths": WIDTHS, "activation": "tanh", "loss": "cross-entropy",
         "tensors": [{"name": n, "file": n + ".npy", "shape": s} for n, s in
                     (("layers.0.weight", [4, 3]), ("layers.0.bias", [4]), ("layers.1.weight", [2, 4]), ("layers.1.bias", [2]))]}
    m.update(change)
    return json.dumps(m).encode()


def json_seeds():
    rc.raw("valid_mlp.json", manifest())
    rc.raw("valid_mlp_gelu_mse.json", manifest(activation="gelu", loss="mse"))
    rc.raw("valid_quadratic.json", json.dumps({"format": "hessa-weights", "version": 1, "model": "quadratic", "tensors": []}).encode())
    rc.raw("bad_widths.json", manifest(widths=[3, 0.5, 2]))
    rc.raw("bad_tensor_count.json", manifest(tensors=[]))
    rc.raw("bad_file_slash.json", manifest(tensors=[{"name": "x", "file": "../x.npy"}] * 4))
    rc.raw("bad_format.json", b'{"format": "pytorch"}')
    rc.raw("bad_truncated.json", manifest()[:70])
    # the schema's rules (docs/weights.schema.json): order, names, duplicates, keys, version, kinds
    t = json.loads(manifest())["tensors"]
    rc.raw("bad_reordered.json", manifest(tensors=t[::-1]))
    rc.raw("bad_renamed.json", manifest(tensors=[dict(t[0], name="fc1.weight")] + t[1:]))
    rc.raw("bad_swapped_files.json", manifest(tensors=[dict(t[0], file=t[2]["file"]), t[1], dict(t[2], file=t[0]["file"]), t[3]]))
    rc.raw("bad_duplicate.json", manifest(tensors=[t[0], t[0], t[2], t[3]]))
    rc.raw("bad_unknown_key.json", manifest(activaton="relu"))
    rc.raw("bad_version.json", manifest(version=99))
    rc.raw("bad_declared_shape.json", manifest(tensors=[dict(t[0], shape=[3, 4])] + t[1:]))
    rc.raw("valid_onnx.json", json.dumps({"format": "hessa-weights", "version": 1, "model": "onnx", "graph": "net.onnx", "tensors": t}).encode())


def options_seeds():
    rc.raw("valid_data.txt", b"-hessa_data_source blobs -hessa_data_limit 200 -hessa_mlp_hidden 16,8")
    rc.raw("valid_ranges.txt", b"-hessa_spectrum_tol 1e-9 -hessa_analyze_gradient_tol -1 -hessa_landscape_range -1,1")
    rc.raw("bad_misspelled.txt", b"-hessa_data_limt 200")
    rc.raw("bad_list.txt", b"-hessa_mlp_hidden 3,,4 -hessa_model_point 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17")
    rc.raw("bad_numbers.txt", b"-hessa_spectrum_tol inf -hessa_model_seed 18446744073709551616 -hessa_data_samples 12x")
    rc.raw("prefixed.txt", b"-hessa_eps_type krylovschur -hessa_newton_ksp_rtol 1e-3")


def weights_npy_seeds():
    rc.npy("valid_4x3_f8.npy", (4, 3))
    rc.npy("valid_4x3_f4_v2.npy", (4, 3), "<f4", version=2)
    rc.npy("bad_shape_3x4.npy", (3, 4))
    rc.npy("bad_1d.npy", (12,))
    rc.npy("bad_inf.npy", (4, 3), values=[float("inf")] + [0.0] * 11)
    rc.npy("bad_truncated.npy", (4, 3), data_bytes=40)


def onnx_seeds():
    """The loader test's models (tests/onnx_loader/make_models.py), good and bad."""
    tmp = os.path.abspath("tmp")
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "..", "tests", "onnx_loader", "make_models.py"), tmp], check=True)
    for f in sorted(os.listdir(tmp)):
        if f.endswith(".onnx"):
            shutil.copy(os.path.join(tmp, f), f)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    seed, full = (os.path.abspath(p) for p in sys.argv[1:])
    in_dir("fuzz_npy", npy_seeds)
    in_dir("fuzz_idx", idx_seeds)
    in_dir("fuzz_hdf5", lambda: hdf5_seeds(seed, full))
    in_dir("fuzz_weights_json", json_seeds)
    in_dir("fuzz_weights_npy", weights_npy_seeds)
    in_dir("fuzz_options", options_seeds)
    in_dir("fuzz_onnx", onnx_seeds)
