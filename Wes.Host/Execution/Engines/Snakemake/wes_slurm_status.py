#!/usr/bin/env python3
"""Tells Snakemake how one of its Slurm jobs is doing: prints success, failed or running.

Snakemake calls it with the job id sbatch printed. scontrol knows a job while the controller remembers it (MinJobAge);
after that, sacct does where the cluster keeps accounting. A controller that does not answer means "running", so the
job is asked about again at the next check instead of being taken as failed.
"""
import re
import subprocess
import sys

WAITING = {
    "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD",
    "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD", "SPECIAL_EXIT",
}


def ask(command):
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def state_of(job):
    reply = ask(["scontrol", "show", "job", "-o", job])
    if reply is None:
        return None
    if reply.returncode == 0:
        match = re.search(r"JobState=(\S+)", reply.stdout)
        return match.group(1) if match else None
    if "Invalid job id" not in reply.stderr:
        return None
    accounting = ask(["sacct", "--noheader", "--parsable2", "--allocations", "--jobs=" + job, "--format=State"])
    if accounting is not None and accounting.returncode == 0 and accounting.stdout.strip():
        return accounting.stdout.split()[0]
    return "UNKNOWN"


def main():
    job = sys.argv[-1].split(";")[0].strip()
    state = state_of(job)
    if state is None or state in WAITING:
        print("running")
    elif state == "COMPLETED":
        print("success")
    else:
        print("failed")


if __name__ == "__main__":
    main()
