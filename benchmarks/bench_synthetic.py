"""Time to generate three synthetic domains of 300 training ids at 128x64.

python benchmarks/bench_synthetic.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from secret_core.data import SyntheticDomainSpec, generate_domain


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for style in ("synth_a", "synth_b", "synth_c"):
            t0 = time.perf_counter()
            spec = SyntheticDomainSpec(
                name=style,
                style=style,
                seed=1,
                num_ids=300,
                num_test_ids=300,
                num_cameras=6,
                height=128,
                width=64,
            )
            ds = generate_domain(spec, Path(tmp) / style)
            print(f"{style}: {time.perf_counter() - t0:6.1f} s  {ds.summary()}")
        print(f"three domains: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
