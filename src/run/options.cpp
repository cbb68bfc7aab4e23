#include "sgnn/run/options.hpp"

#include "sgnn/error.hpp"
#include "sgnn/sim/observation.hpp"
#include "sgnn/sim/ode_solver.hpp"
#include "sgnn/sim/prior.hpp"
#include "sgnn/sim/simulator.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace sgnn::run {
using config::OptionReader;
using config::OptionSpec;
using config::ParsedOptions;
using Type = OptionSpec::Type;

namespace {

std::vector<std::string> ode_method_names() {
    std::vector<std::string> names;
    for (const auto& [name, help] : sim::ode_methods()) names.push_back(name);
    return names;
}

std::vector<std::string> simulator_names() {
    std::vector<std::string> names;
    for (const auto& [name, factory] : sim::simulator_registry()) names.push_back(name);
    names.push_back("mixture");
    return names;
}

// "sir, seir, ..." or "every model", for the help of prior.NAME.
std::string users_of(const std::string& parameter) {
    for (const auto& step : sim::ObservationModel::step_names()) {
        const auto names = sim::ObservationModel::parameters_of(step);
        if (std::find(names.begin(), names.end(), parameter) != names.end()) return "the observation step " + step;
    }
    std::string users;
    for (const auto& [name, factory] : sim::simulator_registry()) {
        const auto names = factory(sgnn::sim::SimulatorOptions{})->parameters();
        if (std::find(names.begin(), names.end(), parameter) != names.end())
            users += (users.empty() ? "" : ", ") + name;
    }
    return users.empty() ? "no model yet" : users;
}

std::vector<OptionSpec> build_run_options() {
    std::vector<OptionSpec> specs = {
        {"name", Type::text, "sgnn", "run name; the default output directory is runs/<name>-<timestamp>"},
        {"out", Type::text, "", "output directory (created; files in it are replaced atomically)"},
        {"seed", Type::integer, "1", "seed of every random stream (simulations, held-out set, initial weights)", 0,
         1e15},
        {"trainers", Type::integer, "1",
         "trainer ranks T. Rank 0 coordinates, ranks 1..T train, the rest simulate; needs T < ranks "
         "(T = 1 without mpiexec)",
         1, 65536},
        {"deterministic", Type::boolean, "false",
         "consume batches in global index order: the model is bitwise identical whatever the number of "
         "simulator ranks (same trainer count); off: take batches as they arrive"},
        {"device", Type::choice, "cpu", "where trainers compute", 0, 0, {"cpu", "cuda"}},
        {"data", Type::text, "",
         "train from this corpus (written by sgnn simulate) instead of live simulators; its simulation settings "
         "(sim.*, obs.*, prior.*) become this run's, and each trainer reads its shard, reshuffled every epoch. "
         "Empty: simulate while training"},

        {"sim.model", Type::choice, "sir",
         "simulator (sgnn list simulators describes each), or mixture: each sample's mechanism drawn from sim.mixture",
         0, 0, simulator_names()},
        {"sim.mixture", Type::text, "sir:1,seir:1",
         "sim.model = mixture: mechanisms and their weights (normalized), NAME:WEIGHT comma-separated. Samples carry "
         "their mechanism as a label; the target 'mechanism' trains a classifier, and a target a mechanism lacks is "
         "masked in its samples"},
        {"sim.days", Type::integer, "60", "days of reported incidence the network sees", 7, 3650},
        {"sim.targets", Type::text, "log_R0,beta,gamma",
         "comma-separated targets to learn: any parameter or derived quantity of the model, or log_ of one "
         "(sgnn list simulators shows them); 'parameters' stands for every parameter, and with sim.model = mixture "
         "'mechanism' trains a classifier of the mechanism"},
        {"sim.threads", Type::integer, "1", "OpenMP threads per simulator rank", 1, 256},
        {"sim.max_ssa_events", Type::real, "1e7",
         "exact SSA models (sir_gillespie, seir_gillespie): the most events one sample may cost, 2-3 per individual "
         "of the largest population the prior allows (about 15 ns each); a prior above it is refused",
         1, 1e15},
        {"sim.max_dropped_fraction", Type::real, "0.5",
         "a simulator rank that drops more than this share of its samples (non-finite or negative values, or a "
         "throw; judged after 500) stops the run with an error naming the simulator and an example parameter vector",
         0, 1},
        {"sim.contact_matrix", Type::text, "3,1.5,0.5; 1.5,2,0.7; 0.5,0.7,1",
         "age_sir: daily contacts between groups, rows separated by ';' (row: group infected, column: "
         "infector's group); R0 is set through the spectral radius of the next-generation matrix"},
        {"sim.group_shares", Type::text, "0.25,0.55,0.2", "age_sir: population share of each group (normalized)"},
        {"sim.parameterize_by",
         Type::choice,
         "R0",
         "epidemic models: R0 draws prior.R0; growth_rate draws prior.growth_rate, the early exponential growth "
         "rate r, and derives R0 = 1 + r/gamma (with a latent class (1 + r/sigma)(1 + r/gamma)), so that "
         "mechanisms compared under one prior on r grow alike early on",
         0,
         0,
         {"R0", "growth_rate"}},
        {"sim.steps_per_day", Type::integer, "1",
         "chain-binomial models (sir, seir, seair, sirs, age_sir): steps per day, each with every rate divided by "
         "the count; 1 is the classic daily model, more steps approach the continuous-time model",
         1, 1440},
        {"obs.steps", Type::text, "report,negbin",
         "observation model, steps applied in order: report (binomial thinning), delay (gamma reporting delay), "
         "negbin (negative-binomial noise), weekend (weekend under-reporting, caught up on Monday), weekly "
         "(weekly totals), missing (entries missing at random, fed to the network as -1), delay_pmf (delay with "
         "the distribution obs.delay_pmf), gaussian (additive noise, sd noise_sd), lognormal (multiplicative noise, "
         "sd noise_sdlog on the log scale); an empty list observes the simulated series as it is"},
        {"obs.delay_pmf", Type::text, "",
         "for the delay_pmf step: comma-separated P(delay = 0, 1, 2, ... days), normalized"},
        {"obs.transform",
         Type::choice,
         "log1p",
         "what the network sees of each observed value x: log1p = log(1 + x) (counts; negative values drop the "
         "sample), identity = x (for Gaussian noise on ODE states)",
         0,
         0,
         {"log1p", "identity"}},
        {"ode.method", Type::choice, "rk5dp",
         "ODE models: PETSc TS Runge-Kutta method (sgnn list simulators describes "
         "each)",
         0, 0, ode_method_names()},
        {"ode.rtol", Type::real, "1e-08", "ODE models: relative tolerance of each step's local error", 1e-14, 0.1},
        {"ode.atol", Type::real, "1e-10", "ODE models: absolute tolerance of each step's local error", 1e-300, 1e6},
        {"ode.petsc_options", Type::text, "",
         "ODE models: PETSc options database text, e.g. '-ts_type rk -ts_rk_type 3bs -ts_adapt_type basic'; options "
         "written as -name [value] on the command line are appended here. Options PETSc does not use are an error"},
    };
    for (const sim::ParameterSpec& p : sim::parameter_catalog()) {
        OptionSpec spec{"prior." + p.name, Type::prior, p.default_prior,
                        p.help + "; values must be " + p.domain.describe() + "; used by " + users_of(p.name)};
        specs.push_back(spec);
    }
    const std::vector<OptionSpec> rest = {
        {"stream.batch_size", Type::integer, "256", "samples per batch; each trainer trains on one batch per step", 1,
         1e6},
        {"stream.credits", Type::integer, "4",
         "batches in flight per simulator-trainer pair; trainer memory is credits x feeders x batch", 1, 1024},

        {"model.type",
         Type::choice,
         "mlp",
         "network: mlp = residual MLP, cnn = 1-D convolutional network",
         0,
         0,
         {"mlp", "cnn"}},
        {"model.hidden", Type::integer, "128", "width of hidden layers and of the embedding", 1, 65536},
        {"model.blocks", Type::integer, "3", "residual blocks (mlp)", 0, 64},
        {"model.channels", Type::integer, "16", "channels of the first convolution (cnn)", 1, 4096},
        {"model.kernel", Type::integer, "5", "convolution kernel width in days, odd (cnn)", 1, 63},

        {"train.steps", Type::integer, "2000", "optimizer steps; each consumes trainers x batch_size samples", 1, 1e9},
        {"train.lr", Type::real, "0.001", "peak AdamW learning rate", 1e-8, 10},
        {"train.lr_min", Type::real, "1e-05", "learning rate at the end of the cosine decay", 0, 10},
        {"train.warmup_steps", Type::integer, "100", "steps of linear learning-rate warmup", 0, 1e9},
        {"train.weight_decay", Type::real, "0.0001", "AdamW decoupled weight decay", 0, 10},
        {"train.grad_clip", Type::real, "1", "maximum global gradient norm; 0 disables clipping", 0, 1e6},
        {"train.bucket_mb", Type::real, "1", "gradient allreduce bucket size in MiB", 0.001, 4096},
        {"train.threads", Type::integer, "1", "LibTorch threads per trainer rank", 1, 256},
        {"train.class_weight", Type::real, "1",
         "mixtures with the target 'mechanism': weight of the cross-entropy against the squared error", 0, 1e6},

        {"eval.every", Type::integer, "200", "evaluate on the held-out set every N steps (and at the end)", 1, 1e9},
        {"eval.samples", Type::integer, "2048", "held-out samples, from their own random stream (never trained on)", 2,
         1e7},

        {"curriculum.stages", Type::integer, "1",
         "prior schedule stages; 1 = fixed prior, n > 1 widens every prior range in n steps", 1, 10000},
        {"curriculum.start_width", Type::real, "0.25", "width of the first stage, as a fraction of each prior range",
         0.01, 1},
        {"curriculum.steps", Type::integer, "0",
         "steps over which the curriculum reaches the full prior; 0 = half of "
         "train.steps",
         0, 1e9},

        {"progress.interval", Type::real, "2", "seconds between progress lines; 0 = only at evaluations", 0, 86400},

        {"checkpoint.every", Type::integer, "0",
         "write a checkpoint every N steps to <out>/checkpoints/step-<N>.h5; 0 = not by step count", 0, 1e9},
        {"checkpoint.minutes", Type::real, "30",
         "write a checkpoint every M minutes of wall time; 0 = not by time. SIGTERM and SIGUSR1 always write one, "
         "then stop with exit status 75 (resume with --resume)",
         0, 1e6},
        {"checkpoint.keep", Type::integer, "3", "newest checkpoints kept (--keep-checkpoints); older ones are deleted",
         1, 1e6},
        {"checkpoint.timeout", Type::real, "600",
         "seconds a checkpoint write may take; a longer one (a failing file system) stops the job with an error, "
         "the previous checkpoint intact",
         1, 1e6},

        {"debug.fail_rank", Type::integer, "-1", "test only: this rank fails on purpose", -1, 1e6, {}, true},
        {"debug.fail_after", Type::real, "1", "test only: seconds before the injected failure", 0, 1e6, {}, true},
        {"debug.step_delay_ms", Type::real, "0", "test only: slow every training step", 0, 1e5, {}, true},
        {"debug.poison_step", Type::integer, "0", "test only: this step's inputs are NaN (0: none)", 0, 1e9, {}, true},
    };
    specs.insert(specs.end(), rest.begin(), rest.end());
    return specs;
}

// What uses each parameter in this run: "R0 of simulator sir", "reporting_rate of the
// observation step report", for error messages.
std::map<std::string, std::string> parameter_roles(const sim::TaskConfig& task) {
    std::map<std::string, std::string> roles;
    std::vector<std::string> models;
    if (task.model == "mixture") {
        for (const auto& [name, weight] : task.mixture) models.push_back(name);
    } else {
        models.push_back(task.model);
    }
    for (const auto& model : models) {
        const auto it = sim::simulator_registry().find(model);
        if (it == sim::simulator_registry().end()) continue;  // reported by sim.model / sim.mixture
        for (const auto& name : it->second(sim::SimulatorOptions{})->parameters()) {
            std::string& role = roles[name];
            role = role.empty() ? name + " is a parameter of simulator " + model : role + ", " + model;
        }
    }
    for (const auto& step : task.observation) {
        for (const auto& name : sim::ObservationModel::parameters_of(step)) {
            roles[name] = name + " is a parameter of the observation step " + step;
        }
    }
    return roles;
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

    c.task.model = v.choice("sim.model");
    c.task.days = v.small_integer("sim.days");
    c.task.targets = split_list(v.text("sim.targets"));
    std::set<std::string> unique(c.task.targets.begin(), c.task.targets.end());
    if (c.task.targets.empty()) v.fail("sim.targets", "name at least one target");
    if (unique.size() != c.task.targets.size()) v.fail("sim.targets", "a target is listed twice");
    c.task.threads = v.small_integer("sim.threads");
    c.task.max_ssa_events = v.number("sim.max_ssa_events");
    if (c.task.model == "mixture") {
        const auto& registry = sim::simulator_registry();
        for (const std::string& item : split_list(v.text("sim.mixture"))) {
            const auto colon = item.find(':');
            const std::string name = item.substr(0, colon);
            double weight = 1.0;
            if (colon != std::string::npos) {
                const std::vector<double> w = v.numbers("sim.mixture", item.substr(colon + 1));
                if (w.size() != 1 || !(w[0] > 0.0)) v.fail("sim.mixture", "the weight of '" + name + "' must be > 0");
                weight = w[0];
            }
            if (registry.find(name) == registry.end()) {
                v.fail("sim.mixture", "'" + name + "' is not a simulator (sgnn list simulators)");
            }
            c.task.mixture.emplace_back(name, weight);
        }
        if (c.task.mixture.size() < 2)
            v.fail("sim.mixture", "a mixture needs at least two mechanisms, e.g. sir:1,seir:1");
    }
    c.task.observation = split_list(v.text("obs.steps"));
    if (!v.text("obs.delay_pmf").empty()) c.task.delay_pmf = v.numbers("obs.delay_pmf");
    c.task.transform = v.choice("obs.transform");
    c.task.options.steps_per_day = v.small_integer("sim.steps_per_day");
    c.task.options.parameterize_by = v.choice("sim.parameterize_by");
    c.task.options.ode.method = v.choice("ode.method");
    c.task.options.ode.rtol = v.number("ode.rtol");
    c.task.options.ode.atol = v.number("ode.atol");
    c.task.options.ode.petsc_options = v.text("ode.petsc_options");
    c.task.options.group_shares = v.numbers("sim.group_shares");
    c.task.options.contact_matrix.clear();
    std::stringstream rows(v.text("sim.contact_matrix"));
    for (std::string row; std::getline(rows, row, ';');) {
        if (row.find_first_not_of(" \t") == std::string::npos) continue;
        c.task.options.contact_matrix.push_back(v.numbers("sim.contact_matrix", row));
    }
    const std::map<std::string, std::string> roles = parameter_roles(c.task);
    for (const sim::ParameterSpec& p : sim::parameter_catalog()) {
        const auto role = roles.find(p.name);
        c.task.priors[p.name] =
            v.prior("prior." + p.name, p.domain,
                    role != roles.end() ? role->second : p.name + " is not used by sim.model = " + c.task.model);
    }

    c.stream.seed = c.seed;
    c.stream.batch_size = v.small_integer("stream.batch_size");
    c.stream.credits = v.small_integer("stream.credits");
    c.stream.threads = c.task.threads;
    c.stream.deterministic = c.deterministic;
    c.stream.max_dropped_fraction = v.number("sim.max_dropped_fraction");

    train::TrainConfig& t = c.train;
    t.model.type = v.choice("model.type");
    t.model.hidden = v.small_integer("model.hidden");
    t.model.blocks = v.small_integer("model.blocks");
    t.model.channels = v.small_integer("model.channels");
    t.model.kernel = v.small_integer("model.kernel");
    if (t.model.kernel % 2 == 0) v.fail("model.kernel", "must be odd, so that convolutions keep the series length");
    t.steps = v.integer("train.steps");
    t.batch_size = c.stream.batch_size;
    t.seed = c.seed;
    t.device = v.choice("device");
    t.threads = v.small_integer("train.threads");
    t.class_weight = v.number("train.class_weight");
    t.optimizer.learning_rate = v.number("train.lr");
    t.optimizer.min_learning_rate = v.number("train.lr_min");
    if (t.optimizer.min_learning_rate > t.optimizer.learning_rate) {
        v.fail("train.lr_min", "must not exceed train.lr (" + v.text("train.lr") + ")");
    }
    t.optimizer.warmup_steps = v.integer("train.warmup_steps");
    t.optimizer.weight_decay = v.number("train.weight_decay");
    t.optimizer.grad_clip = v.number("train.grad_clip");
    t.optimizer.bucket_mb = v.number("train.bucket_mb");
    t.eval_every = v.integer("eval.every");
    t.eval_samples = v.small_integer("eval.samples");
    t.debug_step_delay_ms = v.number("debug.step_delay_ms");
    t.debug_poison_step = v.integer("debug.poison_step");

    c.schedule.stages = v.small_integer("curriculum.stages");
    c.schedule.start_width = v.number("curriculum.start_width");
    c.schedule.ramp_steps = v.integer("curriculum.steps");
    if (c.schedule.ramp_steps > t.steps)
        v.fail("curriculum.steps", "must not exceed train.steps (" + v.text("train.steps") + ")");

    c.progress_interval = v.number("progress.interval");
    c.checkpoint_every = v.integer("checkpoint.every");
    c.checkpoint_minutes = v.number("checkpoint.minutes");
    c.checkpoint_keep = v.small_integer("checkpoint.keep");
    c.checkpoint_timeout = v.number("checkpoint.timeout");
    c.allow_reshard = options.allow_reshard;
    c.debug_fail_rank = v.small_integer("debug.fail_rank");
    c.debug_fail_after = v.number("debug.fail_after");
    c.effective_ini = effective_ini(options, run_options());
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
