# SECRET: self-consistent pseudo label refinement for UDA person re-ID, as a Snakemake workflow.
#
#   snakemake --cores 8 results/table1.csv                  # the embedded synthetic demo
#   snakemake --configfile config/paper.yaml --cores 8 results/table1.csv   # the paper's recipe
#
# A config given with --configfile replaces config/config.yaml as a whole (it is not merged).
# All logic lives in the secret_core package; the rules only wire files together.

from snakemake.utils import min_version

min_version("9.0")


if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


include: "rules/common.smk"


wildcard_constraints:
    setting="uda|usl",
    task="[A-Za-z0-9_]+",
    variant=r"[A-Za-z0-9_]+(_k[0-9.]+)?",
    seed=r"\d+",
    epoch=r"\d{3}",
    space="global|top|bottom|concat",
    dataset="[A-Za-z0-9_]+",
    bn_domain="[A-Za-z0-9_]+",
    start=wf.START_PATTERN,
    target="[A-Za-z0-9_]+",


include: "rules/data.smk"
include: "rules/weights.smk"
include: "rules/pretrain.smk"


if EPOCHS_PER_JOB == 1:

    include: "rules/epoch.smk"

else:

    include: "rules/epoch_span.smk"


include: "rules/start.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        expand("results/{table}.csv", table=TABLES),
        expand("results/figures/{figure}.png", figure=FIGURES),
        rules.rank_lists.input,
