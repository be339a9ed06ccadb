cwlVersion: v1.2
class: CommandLineTool
baseCommand: [tr, 'a-z', 'A-Z']
stdin: $(inputs.infile.path)
stdout: upper.txt
inputs:
  infile: File
outputs:
  output: {type: stdout}
