cwlVersion: v1.0
class: CommandLineTool
doc: Writes a greeting to hello.txt.
baseCommand: echo
stdout: hello.txt
inputs:
  message:
    type: string
    default: Hello World
    inputBinding: {position: 1}
outputs:
  output:
    type: stdout
