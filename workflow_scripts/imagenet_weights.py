"""Rule imagenet_weights: torchvision's ImageNet file of one architecture, into the hub cache."""

from secret_core.pipeline.models import fetch_imagenet
from secret_core.pipeline.runner import run_stage

run_stage(snakemake, fetch_imagenet, arch=snakemake.params.arch, path=snakemake.output[0])
