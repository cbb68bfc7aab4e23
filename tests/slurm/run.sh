#!/bin/bash
# tests/slurm/run.sh - sgnn's SLURM job scripts against a real SLURM on this machine.
#
#   tests/slurm/run.sh --sgnn build/sgnn        (as root; CTest runs it as slurm_jobs)
#   tests/slurm/run.sh --sgnn build/sgnn --keep (keep the work folder: logs, runs)
#   tests/slurm/run.sh --paper                   (also 4., below: about 10 minutes, not in CI)
#
# What it proves, with Debian's slurm-wlm and munge (installed here if missing):
#   1. jobs/train.sbatch runs a tiny deterministic training and writes summary.json;
#   2. the pre-timeout signal (scancel --signal=USR1 --batch, what --signal=B:USR1@120
#      sends) makes the job checkpoint, requeue itself and resume, and the final model
#      has the same SHA-256 as the uninterrupted run of step 1;
#   3. a 3-task jobs/sweep.sbatch array, launched through the mpirun fallback, and its
#      afterok collection job write sweep.csv (one row per task, the grid values in it)
#      and sweep.png;
#   4. with --paper: jobs/paper/all.sh at quick scale (SGNN_SCALE=quick, 2 tasks each)
#      submits the six experiments and the report job, which writes results.md.
#
# The cluster is one node on 127.0.0.1 with more CPUs than the machine has
# (SlurmdParameters=config_overrides), so that 4-6 ranks fit on 2 cores. Every file of
# it (slurm.conf, munge key and socket, state, logs) lives in a temporary folder and the
# daemons listen on free ports, so it cannot disturb a SLURM already on the machine.
# On exit it cancels its jobs, stops the daemons it started by their PIDs, removes the
# folder and purges the packages it installed: the machine is left as it was found.
# Exit status: 0 passed, 1 failed, 77 skipped (not root: it installs packages and runs
# slurmd, which must be root to start jobs).

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SGNN_BIN=$ROOT/build/sgnn
KEEP=0
PAPER=0
while [ $# -gt 0 ]; do
  case "$1" in
    --sgnn) SGNN_BIN=$(realpath "$2"); shift 2 ;;
    --keep) KEEP=1; shift ;;
    --paper) PAPER=1; shift ;;
    *) echo "usage: $0 [--sgnn PATH] [--keep] [--paper]" >&2; exit 2 ;;
  esac
done

say() { echo "[slurm test] $*"; }
if [ "$(id -u)" != 0 ]; then
  say "SKIPPED: needs root (installs slurm-wlm and munge, runs slurmd); run it as root or in CI"
  exit 77
fi
[ -x "$SGNN_BIN" ] || { say "no sgnn executable at $SGNN_BIN (build first, or pass --sgnn)"; exit 1; }

WORK=""
PIDS=()            # daemons we started, newest last
INSTALLED=()       # packages we installed
POLICY_CREATED=0   # we wrote /usr/sbin/policy-rc.d to keep apt from starting services

cleanup() {
  local status=$?
  set +e
  if [ -n "$WORK" ] && [ -f "$WORK/etc/slurm.conf" ] && [ ${#PIDS[@]} -gt 0 ]; then
    scancel --user="$(id -un)" 2>/dev/null
    for _ in $(seq 30); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 1; done
  fi
  local i pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[$i]}
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null
  done
  if [ ${#INSTALLED[@]} -gt 0 ]; then
    say "purging the packages this test installed: ${INSTALLED[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${INSTALLED[@]}" >/dev/null 2>&1 ||
      say "could not purge ${INSTALLED[*]}"
  fi
  [ "$POLICY_CREATED" = 1 ] && rm -f /usr/sbin/policy-rc.d
  if [ -n "$WORK" ]; then
    if [ "$KEEP" = 1 ] || [ "$status" != 0 ]; then say "work folder kept: $WORK"; else rm -rf "$WORK"; fi
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  say "FAILED: $*"
  for log in "$WORK"/log/*.log; do echo "--- tail of $log"; tail -n 20 "$log"; done
  exit 1
}

# --- packages ----------------------------------------------------------------------
missing=()
for p in slurm-wlm munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  before=$(dpkg-query -W -f='${Package} ${Status}\n' | awk '/install ok installed/ {print $1}' | sort)
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && POLICY_CREATED=1
  fi
  say "installing ${missing[*]} from Debian"
  if [ -z "$(find /var/lib/apt/lists -name '*Packages*' -print -quit 2>/dev/null)" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  fi
  if ! apt_log=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" 2>&1); then
    echo "$apt_log" | tail -n 20
    fail "apt-get install ${missing[*]} failed"
  fi
  after=$(dpkg-query -W -f='${Package} ${Status}\n' | awk '/install ok installed/ {print $1}' | sort)
  mapfile -t INSTALLED < <(comm -13 <(echo "$before") <(echo "$after"))
fi

# --- a one-node cluster in a temporary folder --------------------------------------
WORK=$(mktemp -d /tmp/sgnn-slurm-test.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK"/{etc,state,spool,log,run,runs,munge-key,munge-socket}
chmod 700 "$WORK/munge-key"
head -c 1024 /dev/urandom > "$WORK/munge-key/munge.key"
chmod 600 "$WORK/munge-key/munge.key"
SOCKET=$WORK/munge-socket/munge.socket

read -r CTLD_PORT SLURMD_PORT < <(/usr/bin/python3 -c '
import socket
ports = []
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0)); ports.append(s.getsockname()[1])
print(*ports)')
NODE=$(hostname -s)
CPUS=8
MEMORY_MB=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
export SLURM_CONF=$WORK/etc/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=sgnntest
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job may start again after this many seconds (default 120).
AuthInfo=socket=$SOCKET,cred_expire=10
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/run/slurmctld.pid
SlurmdPidFile=$WORK/run/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=600
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEMORY_MB State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

start_daemon() {  # NAME PIDFILE COMMAND...
  local name=$1 pidfile=$2
  shift 2
  "$@" || fail "$name did not start"
  for _ in $(seq 50); do [ -s "$pidfile" ] && break; sleep 0.1; done
  [ -s "$pidfile" ] || fail "$name wrote no PID file $pidfile"
  PIDS+=("$(cat "$pidfile")")
}
start_daemon munged "$WORK/munge-socket/munged.pid" munged --force --key-file="$WORK/munge-key/munge.key" \
  --socket="$SOCKET" --pid-file="$WORK/munge-socket/munged.pid" --seed-file="$WORK/munge-key/munged.seed" \
  --log-file="$WORK/log/munged.log"
start_daemon slurmctld "$WORK/run/slurmctld.pid" slurmctld -f "$SLURM_CONF"
start_daemon slurmd "$WORK/run/slurmd.pid" slurmd -f "$SLURM_CONF" -N "$NODE"
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 0.5
done
sinfo -h -o %T | grep -q idle || fail "the node did not come up idle: $(sinfo 2>&1)"
say "SLURM $(sinfo --version | cut -d' ' -f2) up: node $NODE with $CPUS CPUs, ports $CTLD_PORT/$SLURMD_PORT, folder $WORK"

# --- helpers -----------------------------------------------------------------------
export SGNN=$SGNN_BIN SGNN_RUNS=$WORK/runs
cd "$ROOT"

job_field() {  # JOB FIELD: one field of scontrol show job
  scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

wait_for_job() {  # JOB TIMEOUT_S: waits until the job has ended; prints its state
  local job=$1 deadline=$((SECONDS + $2)) state
  while true; do
    state=$(job_field "$job" JobState)
    case "$state" in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED)
        echo "$state"; return ;;
    esac
    [ $SECONDS -lt $deadline ] || { echo "STILL-$state"; return; }
    sleep 1
  done
}

summary_field() {  # RUN_DIR PYTHON_EXPRESSION_OF_s
  /usr/bin/python3 -c "import json, sys; s = json.load(open(sys.argv[1] + '/summary.json')); print($2)" "$1"
}

TRAIN=(--config configs/tiny.cfg --deterministic)
LAYOUT=(--ntasks=4)
export SGNN_TRAINERS=2

# --- 1. a training job --------------------------------------------------------------
job=$(sbatch --parsable "${LAYOUT[@]}" --output="$WORK/runs/%x-%j.out" jobs/train.sbatch "${TRAIN[@]}")
say "1. jobs/train.sbatch submitted as job $job"
state=$(wait_for_job "$job" 180)
log=$WORK/runs/sgnn-train-$job.out
[ "$state" = COMPLETED ] || { cat "$log"; fail "training job $job ended $state"; }
[ -f "$WORK/runs/$job/summary.json" ] || { cat "$log"; fail "no runs/$job/summary.json"; }
layout=$(summary_field "$WORK/runs/$job" "s['ranks']['trainers'], s['ranks']['simulators'], s['steps']")
[ "$layout" = "2 1 300" ] || fail "summary.json: trainers, simulators, steps = $layout; expected 2 1 300"
reference=$(summary_field "$WORK/runs/$job" "s['model_sha256']")
loss=$(summary_field "$WORK/runs/$job" "s['eval']['loss']")
grep -q "srun --mpi=pmix" "$log" || fail "job $job did not launch with srun --mpi=pmix:\n$(cat "$log")"
say "1. passed: runs/$job/summary.json (2 trainers, 1 simulator, 300 steps, held-out loss $loss), model $reference"

# --- 2. pre-timeout signal: checkpoint, requeue, resume ------------------------------
job=$(sbatch --parsable "${LAYOUT[@]}" --output="$WORK/runs/%x-%j.out" jobs/train.sbatch "${TRAIN[@]}" \
  --debug.step_delay_ms 20 --checkpoint.every 40)
say "2. job $job submitted; signalling it after its first checkpoint"
deadline=$((SECONDS + 120))
until [ -f "$WORK/runs/$job/checkpoints/step-00000040.h5" ]; do
  [ $SECONDS -lt $deadline ] || fail "job $job wrote no checkpoint at step 40 in 120 s ($(job_field "$job" JobState))"
  sleep 0.2
done
sleep 0.5
scancel --signal=USR1 --batch "$job"
state=$(wait_for_job "$job" 300)
log=$WORK/runs/sgnn-train-$job.out
[ "$state" = COMPLETED ] || { cat "$log"; fail "signalled job $job ended $state"; }
restarts=$(job_field "$job" Restarts)
[ "$restarts" = 1 ] || { cat "$log"; fail "job $job restarted $restarts times; expected one requeue"; }
grep -q "stopped on SIGUSR1" "$log" || { cat "$log"; fail "sgnn did not stop on the forwarded SIGUSR1"; }
grep -q "requeueing job $job" "$log" || { cat "$log"; fail "the script did not requeue job $job"; }
stopped=$(summary_field "$WORK/runs/$job" "s['resumed_from']['step']") ||
  { cat "$log"; fail "summary.json of job $job has no resumed_from"; }
model=$(summary_field "$WORK/runs/$job" "s['model_sha256']")
[ "$model" = "$reference" ] ||
  { cat "$log"; fail "stopped at step $stopped and resumed: model $model differs from the uninterrupted $reference"; }
say "2. passed: stopped at step $stopped, requeued once, resumed to the same model $model"

# --- 3. a 3-task sweep and its collection job ----------------------------------------
cat > "$WORK/tiny.sweep" <<SWEEP
config = $ROOT/configs/tiny.cfg
[grid]
train.steps = 100 200 300
SWEEP
# The tasks launch with the mpirun fallback (steps 1 and 2 used srun --mpi=pmix).
array=$(SGNN_SWEEP=$WORK/tiny.sweep SGNN_TRAINERS=1 SGNN_LAUNCHER=mpirun sbatch --parsable --array=0-2 --ntasks=2 \
  --output="$WORK/runs/%x-%A_%a.out" jobs/sweep.sbatch)
say "3. jobs/sweep.sbatch submitted as array $array (3 tasks)"
for task in 0 1 2; do
  state=$(wait_for_job "${array}_$task" 240)
  [ "$state" = COMPLETED ] || { cat "$WORK/runs/sgnn-sweep-${array}_$task.out"; fail "sweep task $task ended $state"; }
  grep -q "sgnn job: mpirun -n 2" "$WORK/runs/sgnn-sweep-${array}_$task.out" ||
    fail "sweep task $task did not launch with mpirun:\n$(cat "$WORK/runs/sgnn-sweep-${array}_$task.out")"
done
collect=$(sed -n 's/.*collection job \([0-9]*\) runs.*/\1/p' "$WORK/runs/sgnn-sweep-${array}_0.out")
[ -n "$collect" ] || { cat "$WORK/runs/sgnn-sweep-${array}_0.out"; fail "task 0 did not submit the collection job"; }
state=$(wait_for_job "$collect" 120)
[ "$state" = COMPLETED ] || { cat "$WORK/runs/sgnn-sweep-collect-$collect.out"; fail "collection job $collect ended $state"; }
# afterok: the collection job started only after the last task had ended.
last_end=$(for task in 0 1 2; do job_field "${array}_$task" EndTime; done | sort | tail -n 1)
started=$(job_field "$collect" StartTime)
[[ ! "$started" < "$last_end" ]] || fail "collection job $collect started at $started, before the last task ended ($last_end)"
csv=$WORK/runs/sweep-$array/sweep.csv
/usr/bin/python3 - "$csv" <<'PY' || fail "sweep.csv is not one row per task with its grid values"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [r["task"] for r in rows] == ["0", "1", "2"], rows
assert [r["train.steps"] for r in rows] == ["100", "200", "300"], rows
assert [r["steps"] for r in rows] == ["100", "200", "300"], rows
assert all(0 < float(r["eval_loss"]) < 1 for r in rows), rows
assert len({r["model_sha256"] for r in rows}) == 3, rows
PY
[ -s "$WORK/runs/sweep-$array/sweep.png" ] || fail "no sweep.png"
say "3. passed: 3 tasks ended by $last_end; collection job $collect started $started, wrote sweep.csv and sweep.png"
if [ "$PAPER" = 1 ]; then
  # --- 4. jobs/paper/all.sh at quick scale ------------------------------------------
  submitted=$(SGNN_SCALE=quick SGNN_TRAINERS=1 jobs/paper/all.sh --ntasks=2 --cpus-per-task=1) ||
    fail "jobs/paper/all.sh failed:\n$submitted"
  echo "$submitted"
  report=$(sed -n 's/^report: job \([0-9]*\).*/\1/p' <<< "$submitted")
  results=$(sed -n 's/^results: //p' <<< "$submitted")
  state=$(wait_for_job "$report" 1800)
  [ "$state" = COMPLETED ] || fail "paper report job $report ended $state"
  for name in posterior-mean model-selection attribution unobservable mismatch sbibm; do
    grep -q "^### $name (quick scale" "$results" || fail "$results has no $name section"
  done
  say "4. passed: six experiments and the report job; $results"
fi
say "all SLURM job tests passed"
