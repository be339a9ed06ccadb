#!/usr/bin/env bash
# Starts the WES server in one command: installs the workflow engines when they are missing (Debian/Ubuntu, with apt),
# then runs Wes.Host with any arguments given (e.g. ./run.sh api, ./run.sh -- --urls http://127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# The same engines CI checks for: cwltool, toil-cwl-runner, snakemake, bubblewrap (the sandbox) and setsid (util-linux).
missing=()
command -v cwltool >/dev/null 2>&1 || missing+=(cwltool)
command -v toil-cwl-runner >/dev/null 2>&1 || missing+=(toil)
command -v snakemake >/dev/null 2>&1 || missing+=(snakemake)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v setsid >/dev/null 2>&1 || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "Installing ${missing[*]} with apt-get"
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "Not installed: ${missing[*]}. Install them with your package manager; the server starts without them," \
      "and runs of a missing engine are refused." >&2
  fi
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET SDK (see global.json) is needed: https://dotnet.microsoft.com/download" >&2
  exit 1
fi

exec dotnet run --project Wes.Host -- "$@"
