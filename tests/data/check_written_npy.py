#!/usr/bin/python3
"""numpy loads the NPY files written by HessaWriteNPY in test_data_readers (1 rank) and
finds exactly the values written: float64 (3, 4) with v_k = 1/(k+1) - 0.25 and int64 (5,)
[-3, 0, 7, 10**15, -2].   usage: check_written_npy.py DIR"""
import os
import sys

import numpy as np

d = sys.argv[1]
a = np.load(os.path.join(d, "hessa_written_f8_np1.npy"))
b = np.load(os.path.join(d, "hessa_written_i8_np1.npy"))
expect_a = (1.0 / (np.arange(12) + 1) - 0.25).reshape(3, 4)
expect_b = np.array([-3, 0, 7, 10**15, -2], dtype=np.int64)
if a.dtype != np.float64 or a.shape != (3, 4) or not np.array_equal(a, expect_a):
    sys.exit(f"float64 file: dtype {a.dtype}, shape {a.shape}, values {a}")
if b.dtype != np.int64 or b.shape != (5,) or not np.array_equal(b, expect_b):
    sys.exit(f"int64 file: dtype {b.dtype}, shape {b.shape}, values {b}")
