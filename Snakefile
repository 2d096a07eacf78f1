# synthfer: how far does GAN-generated data improve facial expression recognition?
# The study as a workflow: prepare faces -> split by subject -> train the GANs -> generate a balanced
# synthetic set -> train the paper's CNN on real + k units of generated faces, per seed -> evaluate -> report.

from snakemake.utils import min_version

min_version("9.0")  # the profile keys, localrule and the report layout need Snakemake 9


# The embedded demo, unless a config file is given (`--configfile configs/paper.yaml`): that one then stands alone,
# with the stage defaults (the paper's) for what it leaves out, instead of being merged into the demo's settings.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


report: "workflow/report/workflow.rst"  # the question, the design and the answer, atop report.html


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/gan.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/classify.smk"
include: "workflow/rules/minority.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        report_outputs(),
