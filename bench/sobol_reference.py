#!/usr/bin/env python3
"""Writes tests/data/sobol_reference.txt: the first 256 unscrambled Sobol' points in 64
dimensions from scipy.stats.qmc.Sobol (Joe-Kuo direction numbers), one point per line.
tests/sampler_test.cc compares fersweep's SobolSequence with it, bit for bit.

    python3 bench/sobol_reference.py > tests/data/sobol_reference.txt
"""
from scipy.stats import qmc

points = qmc.Sobol(d=64, scramble=False).random(256)
print("# scipy", __import__("scipy").__version__, "qmc.Sobol(d=64, scramble=False).random(256)")
for row in points:
    print(" ".join(repr(float(x)) for x in row))
