"""Time to generate the three synthetic domains at 128x64 (300 training ids each by default).

    python benchmarks/bench_synthetic.py [--ids 300] [--test-ids 300] [--workers 1]

Each domain uses its style's own camera count (6, 8 and 12). Wall time depends on what else
the machine runs, so the process CPU time is printed too.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from secret_core.synthetic import DOMAIN_STYLES, SyntheticDomainSpec, generate_domain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=300, help="training ids per domain")
    parser.add_argument("--test-ids", type=int, default=300, help="test ids per domain")
    parser.add_argument("--workers", type=int, default=1, help="render processes per domain")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wall0, cpu0, images = time.perf_counter(), time.process_time(), 0
        for style in DOMAIN_STYLES:
            t0 = time.perf_counter()
            spec = SyntheticDomainSpec(
                name=style, style=style, seed=1, num_ids=args.ids, num_test_ids=args.test_ids
            )
            ds = generate_domain(spec, Path(tmp) / style, workers=args.workers)
            files = sum(1 for _ in (Path(tmp) / style).rglob("*.jpg"))
            images += files
            print(f"{style}: {time.perf_counter() - t0:6.1f} s  {files} files  {ds.summary()}")
        wall = time.perf_counter() - wall0
        print(
            f"three domains: {wall:.1f} s wall, {time.process_time() - cpu0:.1f} s CPU in the "
            f"main process, {images} images, {1000 * wall / images:.2f} ms per image "
            f"(workers={args.workers})"
        )


if __name__ == "__main__":
    main()
