"""benchmarks/functions.cc's test functions in Python, for the Optuna side of the comparisons in
bench/ (each script checks the port against what fersweep stored). Standard library only."""
import math

BRANIN_MIN = 0.397887357729738
HARTMANN6_MIN = -3.32236801141551


def branin(x1, x2):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
     [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]


def hartmann6(x, fidelity=1.0):
    """Hartmann-6; below fidelity 1, BOCA's multi-fidelity form (hartmann6_fidelity)."""
    return -sum((ALPHA[i] - 0.1 * (1 - fidelity)) *
                math.exp(-sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2 for j in range(6)))
                for i in range(4))


def learning_curve(lr, dropout, batch_size, epoch):
    """learning_curve's val_accuracy after `epoch` epochs (width 1)."""
    chance = 1 / 7
    u = math.log10(lr) + 3
    octaves = math.log2(batch_size / 64)
    ceiling = min(max(0.92 - 0.08 * u * u - 0.35 * (dropout - 0.3) ** 2 - 0.015 * abs(octaves),
                      chance), 0.99)
    speed = 0.25 * 10 ** (0.5 * u) * 2 ** (-0.3 * octaves)
    return chance + (ceiling - chance) * (1 - math.exp(-speed * epoch))
