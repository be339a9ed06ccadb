cwlVersion: v1.2
class: Workflow
doc: Two steps whose tools live in a subfolder; counts the words of an attached text file.
inputs:
  text: File
outputs:
  upper:
    type: File
    outputSource: shout/output
  count:
    type: File
    outputSource: count/output
steps:
  shout:
    run: tools/upper.cwl
    in: {infile: text}
    out: [output]
  count:
    run: tools/wc.cwl
    in: {infile: shout/output}
    out: [output]
