# ImageNet initialisation (model.init: imagenet): torchvision's file of the configured
# architecture is downloaded into the torch hub cache by one job on the submitting machine
# (localrule), so compute nodes without internet only read it. The output is the cached file
# itself, outside the working directory; a file already there (put by hand on an offline
# machine, or by an earlier run) satisfies it without any job. The paths come from
# secret_core.imagenet, which does not import torch (every Snakemake process parses this).

from secret_core import imagenet

# What pre-training and the USL start read; one line at start-up for an architecture without
# ImageNet weights. ancient(): the content is fixed by the hash in the file name, so a fresh
# download (new date) must not rerun pre-training.
IMAGENET_INPUT = [ancient(path) for path in imagenet.workflow_inputs(config)]


rule imagenet_weights:
    output:
        f"{imagenet.hub_dir()}/checkpoints/{{weights_file}}",
    log:
        "results/logs/imagenet_weights/{weights_file}.log",
    wildcard_constraints:
        weights_file=imagenet.FILE_PATTERN,
    localrule: True
    conda:
        ENV
    threads: 1
    params:
        arch=lambda wc: imagenet.arch_of_file(wc.weights_file),
    script:
        "../workflow_scripts/imagenet_weights.py"
