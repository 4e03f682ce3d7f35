#!/usr/bin/python3
"""Test data and independent reference checksums for tests/data/test_data_checksum.c.

usage: make_test_data.py OUTDIR MAKE_HDF5     write the files and OUTDIR/reference_checksums.txt
       make_test_data.py --list               print the case names (CMake reads them at configure time)

Every reference is computed here with numpy from data that this script makes (NPY and
IDX files written with numpy, blobs re-implemented on top of tests/core/random_reference.py,
HDF5 contents re-evaluated from the closed formulas of make_hdf5.c) or reads on its own
(Fashion-MNIST through gzip + numpy), never from hessa's output.

Each line of reference_checksums.txt is
  name|n_global|n_features|n_classes|n_targets|feature_sum|feature_abs|label_sum|label_abs|weighted_sum|weighted_abs|options
with, over global samples i and features j (1-based weights):
  feature_sum  = sum_i sum_j (j+1) x_ij                 (HessaDataChecksum)
  label_sum    = sum_i (i+1) label_i, or sum_i (i+1) sum_t y_it for regression
  weighted_sum = sum_i (i+1) sum_j (j+1) x_ij           (also checks the order of the samples)
and *_abs the same sums of absolute values (the scale for round-off when terms cancel).
"""
import gzip
import math
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FMNIST = "/usr/share/datasets/fashion-mnist"
IDX_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}


def np():
    import numpy
    return numpy


# ---- writers ---------------------------------------------------------------------------
def write_npy(path, a, version=(1, 0)):
    with open(path, "wb") as f:
        np().lib.format.write_array(f, a, version=version)


def write_idx(path, a, compress):
    """IDX: 00 00 <type> <ndim>, big-endian uint32 dims, big-endian data."""
    n = np()
    code = IDX_CODES[a.dtype.str[1:]]
    raw = bytes([0, 0, code, a.ndim]) + b"".join(struct.pack(">I", d) for d in a.shape)
    raw += a.astype(a.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(raw)


def read_idx_gz(path):
    """Independent IDX reader (gzip only), used for the Fashion-MNIST references."""
    n = np()
    with gzip.open(path, "rb") as f:
        raw = f.read()
    assert raw[0] == 0 and raw[1] == 0 and raw[2] == 0x08, path
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return n.frombuffer(raw, dtype=n.uint8, offset=4 + 4 * ndim).reshape(dims)


# ---- references -----------------------------------------------------------------------
def standardize(x):
    """Per-feature mean 0, population std 1; constant features (std <= 1e-12 max(1,|mean|)) -> 0."""
    n = np()
    mean = x.mean(axis=0)
    sd = n.sqrt(((x - mean) ** 2).mean(axis=0))
    const = sd <= 1e-12 * n.maximum(1.0, n.abs(mean))
    z = (x - mean) / n.where(const, 1.0, sd)
    z[:, const] = 0.0
    return z


def sums(x, labels=None, y=None):
    n = np()
    x = n.asarray(x, dtype=n.float64).reshape(len(x), -1)
    jw = n.arange(1, x.shape[1] + 1, dtype=n.float64)
    iw = n.arange(1, x.shape[0] + 1, dtype=n.float64)
    rows, rows_abs = x @ jw, n.abs(x) @ jw
    if y is not None:
        lab = n.asarray(y, dtype=n.float64).reshape(len(x), -1).sum(axis=1)
        lab_abs = n.abs(n.asarray(y, dtype=n.float64).reshape(len(x), -1)).sum(axis=1)
    elif labels is not None:
        lab = n.asarray(labels, dtype=n.float64)
        lab_abs = n.abs(lab)
    else:
        lab = lab_abs = n.zeros(len(x))
    return [math.fsum(rows), math.fsum(rows_abs), math.fsum(iw * lab), math.fsum(iw * lab_abs),
            math.fsum(iw * rows), math.fsum(iw * rows_abs)]


def line(name, x, n_classes, n_targets, options, labels=None, y=None):
    x = np().asarray(x, dtype=np().float64)
    n_features = int(np().prod(x.shape[1:])) if x.ndim > 1 else 1
    values = sums(x, labels, y) if len(x) else [0.0] * 6
    return "|".join([name, str(len(x)), str(n_features), str(n_classes), str(n_targets)] +
                    [repr(float(v)) for v in values] + [options])


# ---- blobs and gaussian, re-implemented from the formulas in src/data/synthetic.c --------
def blobs(samples, dim, classes, spread, seed):
    sys.path.insert(0, os.path.join(HERE, "..", "core"))
    from random_reference import normal
    n = np()
    centres = n.array([[2.0 * normal(seed, 1001, k * dim + j) for j in range(dim)] for k in range(classes)])
    x = n.array([[centres[i % classes, j] + spread * normal(seed, 1002, i * dim + j) for j in range(dim)]
                 for i in range(samples)])
    return x, n.arange(samples) % classes


def gaussian(samples, dim, seed):
    sys.path.insert(0, os.path.join(HERE, "..", "core"))
    from random_reference import normal
    return np().array([[normal(seed, 1002, i * dim + j) for j in range(dim)] for i in range(samples)])


# ---- the cases ------------------------------------------------------------------------
CASE_NAMES = ["fmnist_train5000", "fmnist_t10k", "fmnist_t10k_standardize", "fmnist_pool4", "fmnist_pool2_standardize", "idx_raw_t10k3000",
              "idx_f32_i4", "idx_f64_i16", "idx_i8",
              "npy_f32_v1", "npy_f64_v2", "npy_i4_v3_u1", "npy_bigendian", "npy_regression2d", "npy_regression1d",
              "npy_standardize", "npy_tiny5", "npy_tiny2", "npy_classes_given",
              "hdf5_f64", "hdf5_f32_chunked", "hdf5_u8_unit", "hdf5_regression",
              "blobs", "gaussian", "none"]


def make_all(out, make_hdf5):
    n = np()
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)
    rng = n.random.RandomState(20240611)
    lines = []

    # Fashion-MNIST, read independently (gzip + numpy), pixels / 255
    xtr, ltr = read_idx_gz(f"{FMNIST}/train-images-idx3-ubyte.gz"), read_idx_gz(f"{FMNIST}/train-labels-idx1-ubyte.gz")
    xte, lte = read_idx_gz(f"{FMNIST}/t10k-images-idx3-ubyte.gz"), read_idx_gz(f"{FMNIST}/t10k-labels-idx1-ubyte.gz")
    x5 = xtr[:5000].reshape(5000, -1) / 255.0
    lines.append(line("fmnist_train5000", x5, int(ltr[:5000].max()) + 1, 0, "-hessa_data_limit 5000", labels=ltr[:5000]))
    xt = xte.reshape(len(xte), -1) / 255.0
    lines.append(line("fmnist_t10k", xt, 10, 0, "-hessa_data_test", labels=lte))
    lines.append(line("fmnist_t10k_standardize", standardize(xt.astype(n.float64)), 10, 0,
                      "-hessa_data_test -hessa_data_scale standardize", labels=lte))
    # average pooling of the 28 x 28 images over k x k blocks (-hessa_data_pool), after the unit scaling
    pool = lambda x, k: x.reshape(len(x), 28 // k, k, 28 // k, k).mean(axis=(2, 4)).reshape(len(x), -1)
    lines.append(line("fmnist_pool4", pool(x5[:1000], 4), int(ltr[:1000].max()) + 1, 0, "-hessa_data_limit 1000 -hessa_data_pool 4", labels=ltr[:1000]))
    lines.append(line("fmnist_pool2_standardize", standardize(pool(xt, 2)), 10, 0, "-hessa_data_test -hessa_data_pool 2 -hessa_data_scale standardize", labels=lte))
    # raw (uncompressed) IDX copies of t10k
    write_idx(p("t10k-images-raw.idx"), xte, False)
    write_idx(p("t10k-labels-raw.idx"), lte, False)
    lines.append(line("idx_raw_t10k3000", xt[:3000], int(lte[:3000].max()) + 1, 0,
                      f"-hessa_data_source idx -hessa_data_features {p('t10k-images-raw.idx')} -hessa_data_labels {p('t10k-labels-raw.idx')} "
                      "-hessa_data_scale unit -hessa_data_limit 3000", labels=lte[:3000]))
    # IDX with other element types (gzip and raw mixed)
    a = rng.standard_normal((37, 3, 4)).astype(n.float32); la = rng.randint(0, 6, 37).astype(n.int32)
    write_idx(p("f32.idx.gz"), a, True); write_idx(p("i4_labels.idx"), la, False)
    lines.append(line("idx_f32_i4", a, int(la.max()) + 1, 0,
                      f"-hessa_data_source idx -hessa_data_features {p('f32.idx.gz')} -hessa_data_labels {p('i4_labels.idx')}", labels=la))
    a = rng.standard_normal((23, 5)); la = rng.randint(0, 3, 23).astype(n.int16)
    write_idx(p("f64.idx"), a, False); write_idx(p("i2_labels.idx.gz"), la, True)
    lines.append(line("idx_f64_i16", a, int(la.max()) + 1, 0,
                      f"-hessa_data_source idx -hessa_data_features {p('f64.idx')} -hessa_data_labels {p('i2_labels.idx.gz')}", labels=la))
    a = rng.randint(-128, 128, (19, 6)).astype(n.int8); la = rng.randint(0, 4, 19).astype(n.uint8)
    write_idx(p("i8.idx.gz"), a, True); write_idx(p("u1_labels.idx.gz"), la, True)
    lines.append(line("idx_i8", a, int(la.max()) + 1, 0,
                      f"-hessa_data_source idx -hessa_data_features {p('i8.idx.gz')} -hessa_data_labels {p('u1_labels.idx.gz')}", labels=la))

    # NPY
    npy = lambda f, l, extra="": f"-hessa_data_source npy -hessa_data_features {p(f)} -hessa_data_labels {p(l)}" + extra
    a = rng.standard_normal((101, 7)).astype(n.float32); la = rng.randint(0, 5, 101).astype(n.int64)
    write_npy(p("f32_v1.npy"), a, (1, 0)); write_npy(p("i8_v1.npy"), la, (1, 0))
    lines.append(line("npy_f32_v1", a, int(la.max()) + 1, 0, npy("f32_v1.npy", "i8_v1.npy"), labels=la))
    a = rng.standard_normal((101, 7)); la = rng.randint(0, 5, 101).astype(n.int64)
    write_npy(p("f64_v2.npy"), a, (2, 0)); write_npy(p("i8_v2.npy"), la, (2, 0))
    lines.append(line("npy_f64_v2", a, int(la.max()) + 1, 0, npy("f64_v2.npy", "i8_v2.npy"), labels=la))
    a = rng.randint(-1000, 1000, (44, 2, 3)).astype(n.int32); la = rng.randint(0, 9, 44).astype(n.uint8)
    write_npy(p("i4_v3.npy"), a, (3, 0)); write_npy(p("u1.npy"), la, (1, 0))
    lines.append(line("npy_i4_v3_u1", a, int(la.max()) + 1, 0, npy("i4_v3.npy", "u1.npy"), labels=la))
    a = rng.standard_normal((31, 4)).astype(">f8"); la = rng.randint(0, 2, 31).astype("<i4")
    write_npy(p("be_f8.npy"), a); write_npy(p("i4.npy"), la)
    lines.append(line("npy_bigendian", a, int(la.max()) + 1, 0, npy("be_f8.npy", "i4.npy"), labels=la))
    a = rng.standard_normal((50, 4)); y = rng.standard_normal((50, 3)).astype(n.float32)
    write_npy(p("reg_x.npy"), a); write_npy(p("reg_y2.npy"), y)
    lines.append(line("npy_regression2d", a, 0, 3, npy("reg_x.npy", "reg_y2.npy", " -hessa_data_task regression"), y=y))
    y1 = rng.standard_normal(50)
    write_npy(p("reg_y1.npy"), y1)
    lines.append(line("npy_regression1d", a, 0, 1, npy("reg_x.npy", "reg_y1.npy", " -hessa_data_task regression"), y=y1))
    a = rng.standard_normal((64, 5)) * [1, 2, 3, 4, 5] + [0, 10, -10, 100, 0.5]; a[:, 0] = 3.25  # a constant feature
    la = rng.randint(0, 3, 64).astype(n.int64)
    write_npy(p("std_x.npy"), a); write_npy(p("std_l.npy"), la)
    lines.append(line("npy_standardize", standardize(a), int(la.max()) + 1, 0,
                      npy("std_x.npy", "std_l.npy", " -hessa_data_scale standardize"), labels=la))
    a = n.arange(15, dtype=n.float64).reshape(5, 3) + 0.5; la = n.array([1, 0, 2, 1, 0], dtype=n.int64)
    write_npy(p("tiny_x.npy"), a); write_npy(p("tiny_l.npy"), la)
    lines.append(line("npy_tiny5", a, 3, 0, npy("tiny_x.npy", "tiny_l.npy"), labels=la))
    lines.append(line("npy_tiny2", a[:2], 2, 0, npy("tiny_x.npy", "tiny_l.npy", " -hessa_data_limit 2"), labels=la[:2]))
    lines.append(line("npy_classes_given", a, 12, 0, npy("tiny_x.npy", "tiny_l.npy", " -hessa_data_classes 12"), labels=la))

    # HDF5: the file is written by make_hdf5 (C); its contents are re-evaluated here
    subprocess.run([make_hdf5, p("test.h5")], check=True)
    i = n.arange(53)[:, None]
    h = f"-hessa_data_source hdf5 -hessa_data_features {p('test.h5')}"
    feats = ((7 * i + 13 * n.arange(6)[None, :]) % 29) / 4.0 - 3.0
    lines.append(line("hdf5_f64", feats, 7, 0, h, labels=(5 * n.arange(53) + 3) % 7))
    f32 = (((11 * i + 5 * n.arange(6)[None, :]) % 17) / 8.0 - 1.0).astype(n.float32)
    lines.append(line("hdf5_f32_chunked", f32, 4, 0, h + " -hessa_data_hdf5_features features32 -hessa_data_hdf5_labels labels32",
                      labels=(3 * n.arange(53)) % 4))
    pix = ((37 * i + 101 * n.arange(8)[None, :]) % 256) / 255.0
    lines.append(line("hdf5_u8_unit", pix, 7, 0, h + " -hessa_data_hdf5_features pixels -hessa_data_scale unit",
                      labels=(5 * n.arange(53) + 3) % 7))
    tg = (i - 26) / 8.0 + n.arange(2)[None, :]
    lines.append(line("hdf5_regression", feats, 0, 2, h + " -hessa_data_hdf5_labels targets -hessa_data_task regression", y=tg))

    # synthetic
    x, lab = blobs(301, 7, 4, 0.3, 11)
    lines.append(line("blobs", x, 4, 0, "-hessa_data_source blobs -hessa_data_samples 301 -hessa_data_dim 7 "
                      "-hessa_data_classes 4 -hessa_data_spread 0.3 -hessa_data_seed 11", labels=lab))
    x = gaussian(100, 5, 3)
    lines.append(line("gaussian", x, 0, 2, "-hessa_data_source gaussian -hessa_data_samples 100 -hessa_data_dim 5 "
                      "-hessa_data_targets 2 -hessa_data_seed 3", y=n.zeros((100, 2))))
    lines.append("|".join(["none", "0", "0", "0", "0"] + ["0.0"] * 6 + ["-hessa_data_source none"]))

    assert [l.split("|")[0] for l in lines] == CASE_NAMES
    tmp = p("reference_checksums.txt.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, p("reference_checksums.txt"))


if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print(";".join(CASE_NAMES), end="")
    elif len(sys.argv) == 3:
        make_all(sys.argv[1], sys.argv[2])
    else:
        sys.exit(__doc__)
