# Tables of the paper rebuilt from measured numbers, each beside the paper's values.


rule table1:
    input:
        lambda wc: config_check.table_inputs(config, VARIANTS, "table1"),
    output:
        csv=report("results/table1.csv", category="Tables"),
        markdown="results/table1.md",
    params:
        settings=lambda wc: config_check.table_settings(config, VARIANTS, "table1"),
    log:
        "results/logs/table1.log",
    threads: 1
    conda:
        ENV
    script:
        "../workflow_scripts/make_table.py"
