# Snakemake log handler written beside each Snakemake run by Wes.Host (--log-handler-script).
# It appends the job events the server turns into WES tasks and outputs, one JSON object a line.
# The line below is replaced with the run's events file when the script is written.
import json
import time

EVENTS = "__WES_EVENTS_FILE__"
KEPT = {"job_info", "shellcmd", "job_finished", "job_error", "error"}
FIELDS = ("level", "jobid", "name", "msg", "input", "output", "log", "shellcmd")


def _plain(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return str(value)


def _named(value):
    # Snakemake's named lists (wildcards, log) keep their names apart from their values.
    try:
        return {str(k): str(v) for k, v in value.items()}
    except Exception:
        return {}


def log_handler(msg):
    level = msg.get("level")
    text = msg.get("msg")
    failed_command = level == "debug" and isinstance(text, str) and "non-zero exit status" in text
    if level not in KEPT and not failed_command:
        return
    event = {key: _plain(msg[key]) for key in FIELDS if key in msg}
    event["time"] = msg.get("timestamp") or time.time()
    if level == "job_info":
        event["wildcards"] = _named(msg.get("wildcards"))
        event["log_names"] = _named(msg.get("log"))
    with open(EVENTS, "a", encoding="utf-8") as events:
        events.write(json.dumps(event) + "\n")
