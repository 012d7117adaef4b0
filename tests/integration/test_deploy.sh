#!/bin/bash
# How the host agent is deployed, checked without a cluster or a systemd:
#  1. the DaemonSet of docs/kubernetes.md parses as YAML (python3-yaml), and
#     the fields that matter hold: hostPID, the capabilities (all dropped
#     but KILL, SYS_RESOURCE, IPC_LOCK; not privileged, no escalation), the
#     host's /sys/fs/cgroup mounted writable at /sys/fs/cgroup, and the
#     ConfigMap's [pattern.NAME] that --cgroups names, which oomguard reads
#  2. systemd/oomguard-docker.service: systemd-analyze security --offline
#     rates its exposure 1.5 or less, and it runs oomguard --docker
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/lib/testlib.sh"
cd "$root"
tmp=$(mktemp -d /tmp/oomguard-deploy.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3

if ! "$py" -c 'import yaml' 2>/dev/null; then
	t_fail "deploy: yaml" "no python3-yaml (make deps)"
else
	# The YAML block of the agent's section, then the fields.
	out=$("$py" - "$tmp" <<'PY' 2>&1
import re, sys, yaml
text = open("docs/kubernetes.md").read()
section = text[text.index("## On every node"):]
block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
docs = [d for d in yaml.safe_load_all(block) if d]
kinds = {d["kind"]: d for d in docs}
ds, cm = kinds["DaemonSet"], kinds["ConfigMap"]
spec = ds["spec"]["template"]["spec"]
assert ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items(), "selector does not match the pods"
assert spec["hostPID"] is True, "hostPID"
(c,) = spec["containers"]
sc = c["securityContext"]
assert sc["capabilities"]["drop"] == ["ALL"], "drop ALL"
assert sorted(sc["capabilities"]["add"]) == ["IPC_LOCK", "KILL", "SYS_RESOURCE"], sc["capabilities"]["add"]
assert sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False, "privileged"
assert sc["readOnlyRootFilesystem"] is True, "read-only root"
assert sc["seccompProfile"]["type"] == "RuntimeDefault", "seccomp"
vols = {v["name"]: v for v in spec["volumes"]}
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
cg = mounts["/sys/fs/cgroup"]
assert not cg.get("readOnly", False), "/sys/fs/cgroup must be writable"
assert vols[cg["name"]]["hostPath"]["path"] == "/sys/fs/cgroup", "hostPath"
conf = mounts["/etc/oomguard"]
assert vols[conf["name"]]["configMap"]["name"] == cm["metadata"]["name"], "config volume"
args = c["args"]
name = args[args.index("--cgroups") + 1]
ini = cm["data"]["oomguard.ini"]
assert "[pattern.%s]" % name in ini, "no [pattern.%s] for --cgroups %s" % (name, name)
assert c["resources"]["limits"]["memory"], "memory limit"
open(sys.argv[1] + "/oomguard.ini", "w").write(ini)
print("ok")
PY
)
	if [[ $out == ok ]]; then
		t_pass "deploy: the DaemonSet of docs/kubernetes.md parses; hostPID, capabilities, the cgroup mount and the pattern hold"
	else
		t_fail "deploy: DaemonSet" "$out"
	fi
	if out=$(env -u OOMGUARD_CONFIG timeout 10 "$OOMGUARD" -n -c "$tmp/oomguard.ini" 2>&1); then
		t_pass "deploy: the ConfigMap's oomguard.ini is valid: $out"
	else
		t_fail "deploy: ConfigMap" "$out"
	fi
fi

unit=systemd/oomguard-docker.service
if ! command -v systemd-analyze >/dev/null; then
	t_skip "deploy: unit exposure" "no systemd-analyze"
elif exp=$(systemd-analyze security --offline=true "$unit" 2>/dev/null |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p') &&
	[[ -n $exp ]] && awk -v e="$exp" 'BEGIN { exit !(e <= 1.5) }'; then
	t_pass "deploy: $unit exposure $exp (systemd-analyze security --offline)"
else
	t_fail "deploy: unit exposure" "exposure '${exp:-?}', want 1.5 or less"
fi
grep -q '^ExecStart=/usr/local/sbin/oomguard --docker$' "$unit" &&
	t_pass "deploy: $unit runs oomguard --docker" || t_fail "deploy: ExecStart" "$(grep ExecStart "$unit")"
t_summary
