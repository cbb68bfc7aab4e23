# sgnn-job.sh - sourced by every jobs/*.sbatch: paths, the MPI launch and the
# checkpoint-and-requeue protocol, kept in one place so the job scripts stay short.
#
# Settings, all optional, read from the environment (sbatch passes it on):
#   SGNN           the sgnn executable               (default build/sgnn)
#   SGNN_RUNS      where run directories go          (default runs)
#   SGNN_LAUNCHER  auto | srun | mpirun              (default auto: srun --mpi=pmix when
#                  this SLURM has the PMIx plugin, otherwise Open MPI's mpirun)
#   SGNN_MODULES   modules to load first, e.g. "openmpi/4.1 petsc"  (sites with Lmod)
#
# Job scripts run from the directory they were submitted from, which must be the
# repository root (they read configs/ and jobs/lib/ from there).

set -euo pipefail

SGNN=${SGNN:-build/sgnn}
SGNN_RUNS=${SGNN_RUNS:-runs}
SGNN_LAUNCHER=${SGNN_LAUNCHER:-auto}
# Checkpointed and asking to be requeued: sgnn's exit status after SIGUSR1 or SIGTERM.
SGNN_REQUEUE_STATUS=75

sgnn_die() {
  echo "sgnn job: error: $*" >&2
  exit 2
}

if [ -n "${SGNN_MODULES:-}" ]; then
  command -v module >/dev/null 2>&1 || sgnn_die "SGNN_MODULES is set but this shell has no 'module' command"
  # shellcheck disable=SC2086  # a list of module names
  module load $SGNN_MODULES
fi
[ -x "$SGNN" ] || sgnn_die "$SGNN is not an executable (submit from the repository root after 'make build', or set SGNN=/path/to/sgnn)"
mkdir -p "$SGNN_RUNS"

# The launch command for every rank of this job, as an array in SGNN_LAUNCH.
# A heterogeneous job runs one MPI world over all its components, component 0 first.
sgnn_launch_command() {
  local launcher=$SGNN_LAUNCHER
  if [ "$launcher" = auto ]; then
    # Read the whole list first: `grep -q` in a pipe could end srun early (pipefail).
    local plugins
    plugins=$(srun --mpi=list 2>&1 || true)
    if grep -q pmix <<< "$plugins"; then launcher=srun; else launcher=mpirun; fi
  fi
  case "$launcher" in
    srun)
      SGNN_LAUNCH=(srun --mpi=pmix)
      if [ -n "${SLURM_HET_SIZE:-}" ]; then SGNN_LAUNCH+=("--het-group=0-$((SLURM_HET_SIZE - 1))"); fi
      ;;
    mpirun)
      [ -z "${SLURM_HET_SIZE:-}" ] || sgnn_die "a heterogeneous job needs srun --mpi=pmix (SGNN_LAUNCHER=srun); mpirun sees one component only"
      # mpirun reads the allocation from SLURM; Open MPI refuses root unless told.
      SGNN_LAUNCH=(mpirun -n "${SLURM_NTASKS:-1}")
      if [ "$(id -u)" = 0 ]; then SGNN_LAUNCH+=(--allow-run-as-root); fi
      ;;
    *) sgnn_die "SGNN_LAUNCHER is '$launcher'; allowed: auto, srun, mpirun" ;;
  esac
}

# Trainer count of the rank layout. A heterogeneous job: component 0 holds the
# coordinator and the trainers, so T = its tasks - 1 (give it the GPUs), and the other
# components simulate. Otherwise SGNN_TRAINERS (default 1) of the --ntasks ranks train.
sgnn_trainers() {
  if [ -n "${SLURM_HET_SIZE:-}" ]; then
    local head=${SLURM_NTASKS_HET_GROUP_0:-1}
    [ "$head" -ge 2 ] || sgnn_die "heterogeneous job: component 0 has $head task(s); it needs the coordinator plus at least one trainer (--ntasks >= 2)"
    echo $((head - 1))
  else
    echo "${SGNN_TRAINERS:-1}"
  fi
}

# Runs sgnn under the launcher; on the pre-timeout signal (#SBATCH --signal=B:USR1@120,
# or scancel --signal=USR1 --batch) forwards it to the ranks, which checkpoint and exit
# 75; the job then requeues itself, and the same command resumes (--resume auto).
sgnn_run_requeueable() {
  sgnn_launch_command
  echo "sgnn job: ${SGNN_LAUNCH[*]} $SGNN $*"
  "${SGNN_LAUNCH[@]}" "$SGNN" "$@" &
  local launcher_pid=$!
  trap 'echo "sgnn job: got SIGUSR1, asking sgnn to checkpoint"; kill -USR1 "$launcher_pid" 2>/dev/null || true' USR1
  trap 'kill -TERM "$launcher_pid" 2>/dev/null || true' TERM
  local status=0
  # `wait` returns early (status > 128) when a trap fires; keep waiting for sgnn.
  while true; do
    status=0
    wait "$launcher_pid" || status=$?
    if [ "$status" -gt 128 ] && kill -0 "$launcher_pid" 2>/dev/null; then continue; fi
    break
  done
  trap - USR1 TERM
  if [ "$status" -eq "$SGNN_REQUEUE_STATUS" ]; then
    [ -n "${SLURM_JOB_ID:-}" ] || { echo "sgnn job: checkpointed (not under SLURM, nothing to requeue)"; return 0; }
    echo "sgnn job: checkpoint written; requeueing job $SLURM_JOB_ID (restart $(( ${SLURM_RESTART_COUNT:-0} + 1 )))"
    scontrol requeue "$SLURM_JOB_ID"
    return 0
  fi
  return "$status"
}

# Runs sgnn under the launcher in the foreground (experiments: no checkpoints).
sgnn_run() {
  sgnn_launch_command
  echo "sgnn job: ${SGNN_LAUNCH[*]} $SGNN $*"
  "${SGNN_LAUNCH[@]}" "$SGNN" "$@"
}
