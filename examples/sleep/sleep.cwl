cwlVersion: v1.2
class: CommandLineTool
doc: Sleeps for the given number of seconds; used to try cancel.
baseCommand: sleep
inputs:
  seconds:
    type: int
    default: 600
    inputBinding: {position: 1}
outputs: []
