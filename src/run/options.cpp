#include "sgnn/run/options.hpp"

#include "sgnn/coord/options.hpp"
#include "sgnn/error.hpp"
#include "sgnn/sim/model_file.hpp"
#include "sgnn/sim/options.hpp"
#include "sgnn/stream/options.hpp"
#include "sgnn/train/options.hpp"

#include <filesystem>
#include <fstream>
#include <set>

namespace sgnn::run {
using config::OptionReader;
using config::OptionSpec;
using config::ParsedOptions;
using Type = OptionSpec::Type;

namespace {

// The run's own options: the top-level settings, progress, checkpoints and the hidden
// test hooks; defaults from RunConfig's members.
std::vector<OptionSpec> run_head_options() {
    using config::default_text;
    const RunConfig run;
    return {
        {"name", Type::text, default_text(run.name),
         "run name; the default output directory is runs/<name>-<timestamp>"},
        {"out", Type::text, default_text(run.out), "output directory (created; files in it are replaced atomically)"},
        {"seed", Type::integer, default_text(run.seed),
         "seed of every random stream (simulations, held-out set, initial weights)", 0, 1e15},
        {"trainers", Type::integer, default_text(run.trainers),
         "trainer ranks T. Rank 0 coordinates, ranks 1..T train, the rest simulate; needs T < ranks "
         "(T = 1 without mpiexec)",
         1, 65536},
        {"deterministic", Type::boolean, default_text(run.deterministic),
         "consume batches in global index order: the model is bitwise identical whatever the number of "
         "simulator ranks (same trainer count); off: take batches as they arrive"},
        {"device", Type::choice, default_text(run.train.device), "where trainers compute", 0, 0, {"cpu", "cuda"}},
        {"data", Type::text, default_text(run.data),
         "train from this corpus (written by sgnn simulate) instead of live simulators; its simulation settings "
         "(sim.*, obs.*, prior.*) become this run's, and each trainer reads its shard, reshuffled every epoch. "
         "Empty: simulate while training"},
    };
}

std::vector<OptionSpec> run_tail_options() {
    using config::default_text;
    const RunConfig run;
    return {
        {"progress.interval", Type::real, default_text(run.progress_interval),
         "seconds between progress lines; 0 = only at evaluations", 0, 86400},

        {"checkpoint.every", Type::integer, default_text(run.checkpoint_every),
         "write a checkpoint every N steps to <out>/checkpoints/step-<N>.h5; 0 = not by step count", 0, 1e9},
        {"checkpoint.minutes", Type::real, default_text(run.checkpoint_minutes),
         "write a checkpoint every M minutes of wall time; 0 = not by time. SIGTERM and SIGUSR1 always write one, "
         "then stop with exit status 75 (resume with --resume)",
         0, 1e6},
        {"checkpoint.keep", Type::integer, default_text(run.checkpoint_keep),
         "newest checkpoints kept (--keep-checkpoints); older ones are deleted", 1, 1e6},
        {"checkpoint.timeout", Type::real, default_text(run.checkpoint_timeout),
         "seconds a checkpoint write may take; a longer one (a failing file system) stops the job with an error, "
         "the previous checkpoint intact",
         1, 1e6},

        {"debug.fail_rank",
         Type::integer,
         default_text(run.debug_fail_rank),
         "test only: this rank fails on purpose",
         -1,
         1e6,
         {},
         true},
        {"debug.fail_after",
         Type::real,
         default_text(run.debug_fail_after),
         "test only: seconds before the injected failure",
         0,
         1e6,
         {},
         true},
        {"debug.step_delay_ms",
         Type::real,
         default_text(run.train.debug_step_delay_ms),
         "test only: slow every training step",
         0,
         1e5,
         {},
         true},
        {"debug.poison_step",
         Type::integer,
         default_text(run.train.debug_poison_step),
         "test only: this step's inputs are NaN (0: none)",
         0,
         1e9,
         {},
         true},
    };
}

// Every option of a run, each module's beside its config struct, in the order --help
// and config.ini list them.
std::vector<OptionSpec> build_run_options() {
    std::vector<OptionSpec> specs;
    for (const auto& part : {run_head_options(), sim::task_options(), stream::stream_options(), train::train_options(),
                             coord::schedule_options(), run_tail_options()}) {
        specs.insert(specs.end(), part.begin(), part.end());
    }
    return specs;
}

// Settings that change how a run executes, not what it computes.
bool may_change_on_resume(const std::string& key) {
    static const std::set<std::string> keys = {"name",           "out",         "trainers",           "deterministic",
                                               "device",         "sim.threads", "sim.max_ssa_events", "train.threads",
                                               "stream.credits", "train.steps", "eval.every",         "eval.samples"};
    for (const char* section : {"progress.", "checkpoint.", "debug."}) {
        if (key.rfind(section, 0) == 0) return true;
    }
    return keys.count(key) > 0;
}

}  // namespace

const std::vector<OptionSpec>& run_options() {
    static const std::vector<OptionSpec> specs = build_run_options();
    return specs;
}

RunConfig read_run_config(const std::string& run_dir, const std::string& flag) {
    const std::string ini = run_dir + "/config.ini";
    std::ifstream probe(ini);
    if (!probe) throw ConfigError(flag + " " + run_dir + ": no config.ini there (give a finished training run)");
    sim::use_model_file_copies(sim::model_file_copies_of_run(run_dir));  // the model the run trained on
    return make_run_config(config::parse_options({"--config", ini}, run_options()));
}

TrainedModel trained_model(const std::string& run_flag, const std::string& model_flag) {
    TrainedModel trained{run_flag, model_flag};
    if (trained.run_dir.empty() && !model_flag.empty()) {
        const std::string parent = std::filesystem::path(model_flag).parent_path().string();
        trained.run_dir = parent.empty() ? "." : parent;
    }
    if (trained.model.empty() && !trained.run_dir.empty()) trained.model = trained.run_dir + "/model.h5";
    return trained;
}

RunConfig make_run_config(const ParsedOptions& options) {
    const OptionReader v(options, run_options());
    RunConfig c;
    c.name = v.text("name");
    if (c.name.empty() || c.name.find('/') != std::string::npos) v.fail("name", "must be non-empty, without '/'");
    c.out = v.text("out");
    c.seed = static_cast<std::uint64_t>(v.integer("seed"));
    c.trainers = v.small_integer("trainers");
    c.deterministic = v.boolean("deterministic");
    c.data = v.text("data");

    c.task = sim::read_task_config(v);

    stream::read_stream_options(v, c.stream);
    c.stream.seed = c.seed;
    c.stream.threads = c.task.threads;
    c.stream.deterministic = c.deterministic;
    c.stream.max_dropped_fraction = c.task.max_dropped_fraction;

    train::TrainConfig& t = c.train;
    train::read_train_options(v, t);
    t.batch_size = c.stream.batch_size;
    t.seed = c.seed;
    t.device = v.choice("device");
    t.debug_step_delay_ms = v.number("debug.step_delay_ms");
    t.debug_poison_step = v.integer("debug.poison_step");

    c.schedule = coord::read_schedule_options(v, t.steps);

    c.progress_interval = v.number("progress.interval");
    c.checkpoint_every = v.integer("checkpoint.every");
    c.checkpoint_minutes = v.number("checkpoint.minutes");
    c.checkpoint_keep = v.small_integer("checkpoint.keep");
    c.checkpoint_timeout = v.number("checkpoint.timeout");
    c.debug_fail_rank = v.small_integer("debug.fail_rank");
    c.debug_fail_after = v.number("debug.fail_after");
    config::ParsedOptions effective = options;
    for (const auto& [key, value] : sim::model_file_priors(c.task)) effective.values[key] = value;
    c.effective_ini = config::effective_ini(effective, run_options());
    return c;
}

bool defines_the_run(const std::string& key) { return !may_change_on_resume(key); }

bool defines_the_samples(const std::string& key) {
    if (key == "sim.threads" || key == "sim.max_dropped_fraction" || key == "sim.max_ssa_events") return false;
    for (const char* section : {"sim.", "obs.", "prior.", "ode."}) {
        if (key.rfind(section, 0) == 0) return true;
    }
    return false;
}

}  // namespace sgnn::run
