#!/usr/bin/python3
"""Independent re-implementation of hessa's counter-based stream (src/core/random.c),
used to produce the reference values in test_random.c. Run: python3 random_reference.py"""
import math

M = (1 << 64) - 1

def mix64(z):
    z &= M
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return z ^ (z >> 31)

def bits(seed, stream, index):
    key = mix64(seed + 0x9e3779b97f4a7c15 * (stream + 1))
    return mix64(key ^ mix64(index + 0x632be59bd9b4e019))

def uniform(seed, stream, index):
    return ((bits(seed, stream, index) >> 11) + 0.5) * 2.0 ** -53

def normal(seed, stream, index):
    u1, u2 = uniform(seed, stream, 2 * index), uniform(seed, stream, 2 * index + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

def rademacher(seed, stream, index):
    return 1.0 if bits(seed, stream, index) >> 63 else -1.0

if __name__ == "__main__":
    for i in (0, 1, 2, 999):
        print(f"{{{i}, {uniform(42, 7, i)!r}, {normal(42, 7, i)!r}, {rademacher(42, 7, i)!r}}},")
