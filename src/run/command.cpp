#include "sgnn/run/command.hpp"

#include "sgnn/checkpoint/files.hpp"
#include "sgnn/checkpoint/schema.hpp"
#include "sgnn/checkpoint/signals.hpp"
#include "sgnn/comm/mpi.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/corpus_file.hpp"
#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/run/options.hpp"
#include "sgnn/run/run.hpp"
#include "sgnn/sim/model_file.hpp"

#include <cstdio>
#include <map>

namespace sgnn::run {
namespace {

const char* kTrainHelp = R"TXT(sgnn train - train a simulation-grounded network

Simulator ranks draw parameters from the prior, simulate, apply the observation model
and stream batches to the trainers; trainers run data-parallel LibTorch training
(AdamW, warmup + cosine learning rate, gradient clipping, bucketed gradient allreduce);
the coordinator prints progress, evaluates on a held-out set drawn from its own random
stream, and writes the outputs.

Sample runs:
  build/sgnn train --config configs/quickstart.cfg
  mpiexec -n 4 --oversubscribe build/sgnn train --config configs/quickstart.cfg --out runs/qs
  mpiexec -n 6 build/sgnn train --config configs/quickstart.cfg --trainers 2 --train.steps 5000
  build/sgnn train --prior.R0 "loguniform(1.2, 6)" --model.type cnn --train.steps 1000

Rank layout (from the number of MPI ranks P and --trainers T):
  rank 0          coordinator
  ranks 1..T      trainers; each trains on one batch of stream.batch_size per step
  ranks T+1..P-1  simulator workers; simulator s feeds trainer s mod T (with fewer
                  simulators than trainers, one simulator feeds several trainers)
  P = T+1         the coordinator also runs a simulator worker
  P = 1           (no mpiexec) one process holds every role and simulates inline
  T must be in [1, P-1] (T = 1 when P = 1).

Reproducibility: sample i is a function of (seed, i) only. With --deterministic each
trainer consumes its batches in index order, so the final model is bitwise identical
for the same seed, config and trainer count, whatever the number of simulator ranks.

Outputs in --out (default runs/<name>-<timestamp>), each written atomically
(layouts in docs/file-formats.md):
  config.ini    every option's effective value (feed it back with --config)
  metrics.csv   one row per evaluation (pandas.read_csv)
  checkpoints/  step-<step>.h5: every checkpoint.every steps, every checkpoint.minutes,
                and on SIGTERM/SIGUSR1; the newest checkpoint.keep are kept
  model.h5      parameters by name and target normalization (h5py)
  summary.json  held-out R2/RMSE per target, throughput, rank counts, model hash
  run.json      the run's identity (run_id, also in its checkpoints)
A run locks --out while it runs (a second run there is refused), and a fresh run
refuses a folder that holds another run's outputs (docs/safety.md).

Checkpoints and resume:
  mpiexec -n 6 build/sgnn train --config C --out runs/a --checkpoint.every 500
  mpiexec -n 4 build/sgnn train --resume runs/a        (any number of simulators)
  On SIGTERM or SIGUSR1 (SLURM: #SBATCH --signal=B:USR1@120) sgnn writes a
  checkpoint after the current step and every rank exits with status 75; a job
  script requeues on 75 (jobs/train.sbatch does; docs/cluster.md). --deterministic
  runs resume to the same model bits. A signal before the first step (while the
  normalization and held-out sets are simulated) ends the job within about a second,
  also with 75: there is nothing to checkpoint yet.
  --resume DIR|FILE    continue from FILE, or run DIR's own newest checkpoint; the
                       checkpoint's config is the base, options given now override
                       what may change (steps, threads, evaluation, checkpoints)
  --resume auto        with --out DIR: resume if DIR has a checkpoint, else start
                       (in place of a run that left none, never of a finished one)
  --allow-reshard      resume with another trainer count (not bitwise reproducible)

From a corpus instead of live simulators (sgnn simulate --help):
  mpiexec -n 3 build/sgnn train --data corpus.h5 --trainers 2 --model.type cnn

Options come from --config FILE (INI: top-level keys, then [section] blocks) and from
the command line as --section.key VALUE; the command line wins. Errors name the key,
the value, where it came from and what is allowed, and exit with status 2.
PETSc options for the ODE models pass through with a single dash (-ts_rk_type 3bs,
-ts_adapt_type basic, -ts_monitor) and are recorded in ode.petsc_options.
  --config FILE                   read options from an INI file
  -h, --help                      this text
)TXT";

// --resume: the checkpoint file (or "" for a fresh run under --resume auto), its
// configuration under the command line, and the run directory as the default --out.
RunConfig resumed_config(const std::vector<std::string>& args, config::ParsedOptions& parsed,
                         const std::string& resume) {
    std::string path;
    if (resume == "auto") {
        // For job scripts that run the same command on every (re)start.
        if (parsed.origin["out"] == "default") {
            throw ConfigError("--resume auto needs --out DIR: the run directory to resume from, or to start in");
        }
        const std::string out = parsed.values["out"];
        const bool has_checkpoint = !checkpoint::list_checkpoints(checkpoint::checkpoint_directory(out)).empty();
        if (!has_checkpoint) {
            RunConfig fresh = make_run_config(parsed);
            fresh.resume_auto = true;
            return fresh;
        }
        path = checkpoint::resolve_resume_path(out);
    } else {
        path = checkpoint::resolve_resume_path(resume);
    }
    // The run's own copies of its model files, not the files as they may be now.
    sim::use_model_file_copies(sim::model_file_copies_of_run(checkpoint::run_directory_of(path)));
    std::string checkpoint_ini;
    try {
        checkpoint_ini = io::DatasetReader(path).read("config").text();
    } catch (const std::exception& error) {
        const std::string message = error.what();
        throw ConfigError("checkpoint " + (message.rfind(path, 0) == 0 ? message : path + ": " + message));
    }
    parsed = config::parse_options(args, run_options(), checkpoint_ini, "checkpoint " + path);
    if (parsed.origin["out"] != "command line") parsed.values["out"] = checkpoint::run_directory_of(path);
    RunConfig config = make_run_config(parsed);
    config::require_same_settings(
        "checkpoint " + path, checkpoint_ini, config.effective_ini, defines_the_run,
        "a resumed run keeps the simulator, observation model, priors, network, optimizer, batch "
        "size and seed (drop the option, or start a new run)");
    config.resume = path;
    return config;
}

// --data: the corpus's simulation settings under the command line; they must stay
// those the corpus was simulated with.
RunConfig corpus_config(const std::vector<std::string>& args, config::ParsedOptions& parsed) {
    const std::string path = parsed.values["data"];
    std::string corpus_ini;
    try {
        const io::CorpusHeader header(path, "sgnn-corpus", "write one with sgnn simulate");  // format and checksums
        const io::DatasetReader corpus(path);
        corpus_ini = corpus.read("config").text();
        // The model files the corpus was simulated from, as they were then.
        std::map<std::string, sim::ModelFileCopy> copies;
        for (const std::string& dataset : corpus.dataset_paths()) {
            const std::string name = sim::model_file_of_dataset(dataset);
            if (!name.empty()) copies[name] = {path + ":" + dataset, corpus.read(dataset).text()};
        }
        sim::use_model_file_copies(std::move(copies));
    } catch (const std::exception& error) {
        const std::string message = error.what();
        const bool advised = message.find("sgnn simulate") != std::string::npos;
        throw ConfigError("data = " + (message.rfind(path, 0) == 0 ? message : path + ": " + message) +
                          (advised ? "" : " (write a corpus with sgnn simulate)"));
    }
    parsed = config::parse_options(args, run_options(), corpus_ini, "corpus " + path);
    parsed.values["data"] = path;
    parsed.origin["data"] = "command line";
    RunConfig config = make_run_config(parsed);
    config::require_same_settings(
        "data = " + path, corpus_ini, config.effective_ini, defines_the_samples,
        "a corpus fixes the simulator, observation model and priors (drop the option, or simulate "
        "a new corpus)");
    return config;
}

}  // namespace

std::vector<config::OptionSpec> train_flags() {
    using Type = config::OptionSpec::Type;
    return {
        {"resume", Type::text, "", "DIR|FILE|auto: the checkpoint to continue from"},
        {"allow-reshard", Type::boolean, "false", "resume with another trainer count"},
    };
}

RunConfig configure_run(const std::vector<std::string>& args, config::ParsedOptions& parsed,
                        const ResumeFlags& resume) {
    RunConfig config = !resume.what.empty()             ? resumed_config(args, parsed, resume.what)
                       : !parsed.values["data"].empty() ? corpus_config(args, parsed)
                                                        : make_run_config(parsed);
    config.allow_reshard = resume.allow_reshard;
    return config;
}

int train_command(Session& session) {
    std::vector<std::string> args = session.args();
    const config::CommandFlags flags(args, train_flags());
    config::ParsedOptions parsed = config::parse_options(args, run_options());
    if (parsed.help) {
        std::printf("%s%s", kTrainHelp, config::options_help(run_options()).c_str());
        return 0;
    }
    const RunConfig config = configure_run(args, parsed, {flags.text("resume"), flags.boolean("allow-reshard")});
    const comm::MpiSession& mpi = session.start_mpi();
    session.set_role(role_of_rank(config, mpi.world_rank(), mpi.world_size()));
    checkpoint::install_stop_signal_handlers();
    return run_training(config, mpi, RunOptions{}).exit_code;
}

const char* train_help() { return kTrainHelp; }

}  // namespace sgnn::run
