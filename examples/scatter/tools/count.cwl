cwlVersion: v1.2
class: CommandLineTool
doc: Counts the words of one file.
baseCommand: [wc, -w]
stdin: $(inputs.infile.path)
stdout: $(inputs.infile.nameroot).count
inputs:
  infile: File
outputs:
  output:
    type: stdout
