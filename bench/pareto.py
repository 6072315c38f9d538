"""Pareto dominance for the bench/ scripts, all objectives minimised, any number of them (the
C++ side's is common/pareto.h). Standard library only, so scripts run by a bare python3 can use it."""


def dominates(q, p):
    """Whether q is at least as good as p in every objective and better in one."""
    return all(a <= b for a, b in zip(q, p)) and any(a < b for a, b in zip(q, p))


def front_of(points):
    """The points no other point dominates, in their order (equal points are all kept)."""
    return [p for p in points if not any(dominates(q, p) for q in points)]
