"""A tour of graphc's foundation: show, verify and run an example model.

Runs the same steps a user would type at the shell (``graphc show``,
``graphc verify``, ``graphc run``) on ``examples/mlp.gir``, then checks the
result against numpy: ``softmax(x @ w + b)``.
"""

from __future__ import annotations

import os
import sys
import tempfile

import numpy as np

from graphc.cli.main import main as graphc

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "mlp.gir")


def step(title: str, argv: list[str]) -> None:
    print(f"\n$ graphc {' '.join(argv)}    # {title}")
    status = graphc(argv)
    if status != 0:
        sys.exit(status)


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 784)).astype(np.float32)
    w = (rng.standard_normal((784, 10)) * 0.05).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)

    with tempfile.TemporaryDirectory() as tmp:
        for name, array in (("x", x), ("w", w), ("b", b)):
            np.save(os.path.join(tmp, f"{name}.npy"), array)
        step("print the canonical IR", ["show", MODEL])
        step("check the verifier's invariants", ["verify", MODEL])
        out = os.path.join(tmp, "out")
        step("run on the reference interpreter",
             ["run", MODEL, "--backend", "interpreter", "-i", f"x={tmp}/x.npy",
              "-i", f"w={tmp}/w.npy", "-i", f"b={tmp}/b.npy", "-o", out])
        result = np.load(os.path.join(out, "out0.npy"))

    logits = x.astype(np.float64) @ w.astype(np.float64) + b
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    error = float(np.abs(result - expected).max())
    print(f"\nmax |graphc - numpy| = {error:.2e} (softmax(x @ w + b), f32 vs f64 numpy)")
    if error > 1e-6:
        sys.exit("result differs from numpy by more than 1e-6")
    print("ok")


if __name__ == "__main__":
    main()
