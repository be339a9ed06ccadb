cwlVersion: v1.2
class: CommandLineTool
doc: Always fails with exit code 3.
baseCommand: [sh, -c, 'echo failing on purpose >&2; exit 3']
inputs: []
outputs: []
