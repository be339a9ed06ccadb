cwlVersion: v1.2
class: Workflow
doc: Counts the words of several text files in parallel (scatter), then adds the counts up.
requirements:
  ScatterFeatureRequirement: {}
inputs:
  texts: File[]
outputs:
  counts:
    type: File[]
    outputSource: count/output
  total:
    type: File
    outputSource: sum/output
steps:
  count:
    run: tools/count.cwl
    scatter: infile
    in: {infile: texts}
    out: [output]
  sum:
    run: tools/sum.cwl
    in: {counts: count/output}
    out: [output]
