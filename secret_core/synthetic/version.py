"""The synthetic generator's version, apart from the generator so the workflow can read it.

Every change that alters a generated image bumps it. The dataset jobs' params carry it, so a
new generator reruns the data jobs and what depends on them (the workflow's rerun triggers
leave out ``code``), and ``generate_domain`` regenerates a folder written by another version.

1-2: first releases; 3: cameras calibrated to real colour statistics (styles.py); 4: tight
boxes (the waist at mid-height) and scene clutter at every depth (render.py).
"""

GENERATOR_VERSION = 4
