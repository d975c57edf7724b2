# The paper's tables and figures rebuilt from measured numbers, and the pictures of the
# HTML report (`snakemake --report results/report.html`).

TABLES = ["table1", "table2", "table3", "table4"]
FIGURES = list(config_check.FIGURES)


rule make_table:
    input:
        lambda wc: config_check.table_inputs(config, VARIANTS, wc.table),
    output:
        csv=report(
            "results/{table}.csv", category="Tables", labels={"table": "{table}"}
        ),
        markdown="results/{table}.md",
    log:
        "results/logs/{table}.log",
    wildcard_constraints:
        table="table[1-4]",
    conda:
        ENV
    threads: 1
    params:
        settings=lambda wc: config_check.table_settings(config, VARIANTS, wc.table),
    script:
        "../workflow_scripts/make_table.py"


rule make_figure:
    input:
        lambda wc: config_check.figure_inputs(config, wc.figure),
    output:
        png=report(
            "results/figures/{figure}.png",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
        pdf="results/figures/{figure}.pdf",
    log:
        "results/logs/{figure}.log",
    wildcard_constraints:
        figure="fig1c|fig5|fig6|fig7",
    conda:
        ENV
    threads: 1
    params:
        settings=lambda wc: config_check.figure_settings(config, wc.figure),
    script:
        "../workflow_scripts/make_figure.py"


rule rank_list:
    input:
        model=lambda wc: checkpoint_of(wc, num_epochs(wc.setting)),
        data=target_summary,
    output:
        png=report(
            "results/{setting}/{task}/{variant}/seed{seed}/rank_list.png",
            category="Rank lists",
            labels={"task": "{task}", "variant": "{variant}", "seed": "{seed}"},
        ),
    log:
        "results/{setting}/{task}/{variant}/seed{seed}/logs/rank_list.log",
    conda:
        ENV
    threads: config["threads_per_job"]
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=config["gpu_per_job"],
    params:
        settings=lambda wc: settings(wc, "rank_list"),
    script:
        "../workflow_scripts/rank_list.py"


for _table in TABLES:

    rule:
        name:
            _table
        input:
            f"results/{_table}.csv",


rule figures:
    input:
        expand("results/figures/{figure}.{ext}", figure=FIGURES, ext=["png", "pdf"]),


rule rank_lists:
    input:
        [
            f"{paths.experiment_dir(**e)}/rank_list.png"
            for e in config_check.rank_list_experiments(config)
        ],


# Catch-all rules: a misspelled table, figure or rule name would otherwise get Snakemake's bare
# "No rule to produce ...". They match only names no other rule makes, and their input
# function stops the run (dry runs included) with one line listing the known targets.
rule unknown_table:
    input:
        lambda wc: unknown_target(f"results/{wc.name}"),
    output:
        "results/{name}",
    log:
        "results/logs/unknown_{name}.log",
    wildcard_constraints:
        name=r"(?!(table[1-4]\.(csv|md)|README\.md)$)[^/]+\.(csv|md)",
    conda:
        ENV


rule unknown_figure:
    input:
        lambda wc: unknown_target(f"results/figures/{wc.name}"),
    output:
        "results/figures/{name}",
    log:
        "results/logs/unknown_figure_{name}.log",
    wildcard_constraints:
        name=r"(?!(fig1c|fig5|fig6|fig7)\.(png|pdf)$)[^/]+",
    conda:
        ENV


rule unknown_rule_name:
    input:
        lambda wc: unknown_target(wc.name),
    output:
        "{name}",
    log:
        "results/logs/unknown_rule_{name}.log",
    wildcard_constraints:
        name="[A-Za-z][A-Za-z0-9_]*",
    conda:
        ENV
