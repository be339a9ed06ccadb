cwlVersion: v1.2
class: CommandLineTool
baseCommand: [wc, -w]
stdin: $(inputs.infile.path)
stdout: count.txt
inputs:
  infile: File
outputs:
  output: {type: stdout}
