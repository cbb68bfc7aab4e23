#!/bin/bash
# all.sh - submit the six paper experiments and a report job that waits for them.
#
# Run from the repository root after `make build` (it calls sbatch; it is not a job):
#   jobs/paper/all.sh                                  # paper scale
#   jobs/paper/all.sh --account=proj42 --partition=cpu # sbatch options for every job
#   SGNN_SCALE=quick jobs/paper/all.sh                 # minutes: try the cluster set-up first
#
# What it does: submits jobs/paper/{posterior-mean,model-selection,attribution,
# unobservable,mismatch,sbibm}.sbatch (they run side by side; their sizes and time limits
# are in each script), then a one-task report job with --dependency=afterok on all six,
# which writes results.md: every experiment's table and claims, as in docs/results.md.
# It prints each job id, and the folder the results land in:
#   runs/paper-<date>-<time>/<experiment>/   one experiment's summary.json, CSV and PNG
#   runs/paper-<date>-<time>/results.md      the report
# If an experiment fails, the report job never starts (squeue: DependencyNeverSatisfied);
# scancel it, resubmit the failed experiment with SGNN_OUT=<its folder>, then run
#   python3 scripts/update_results.py --report runs/paper-.../results.md runs/paper-...
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v sbatch >/dev/null || { echo "all.sh: no sbatch here; run it on a SLURM login node" >&2; exit 2; }
[ -x "${SGNN:-build/sgnn}" ] || { echo "all.sh: ${SGNN:-build/sgnn} not built; run make build first" >&2; exit 2; }

SCALE=${SGNN_SCALE:-paper}
DIR=${SGNN_RUNS:-runs}/$SCALE-$(date +%Y%m%d-%H%M%S)
mkdir -p "$DIR"
ids=()
for name in posterior-mean model-selection attribution unobservable mismatch sbibm; do
  id=$(SGNN_OUT=$DIR/$name sbatch --parsable --output="$DIR/$name.out" "$@" "jobs/paper/$name.sbatch")
  echo "$name: job $id (log $DIR/$name.out)"
  ids+=("${id%%;*}")
done
report=$(sbatch --parsable "$@" --dependency="afterok:$(IFS=:; echo "${ids[*]}")" --job-name=sgnn-paper-report \
  --ntasks=1 --time=00:10:00 --output="$DIR/report.out" \
  --wrap="cd $(printf %q "$PWD") && python3 scripts/update_results.py --report $(printf %q "$DIR/results.md") $(printf %q "$DIR")")
echo "report: job $report, after all six succeed (log $DIR/report.out)"
echo "results: $DIR/results.md"
