cwlVersion: v1.2
class: CommandLineTool
doc: Adds up the counts, one per file.
baseCommand: [sh, -c, 'cat "$@" | awk "{ s += \$1 } END { print s }"', sum]
stdout: total.txt
inputs:
  counts:
    type: File[]
    inputBinding: {position: 1}
outputs:
  output:
    type: stdout
