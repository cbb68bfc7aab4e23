#include "sgnn/sim/options.hpp"

#include "sgnn/error.hpp"
#include "sgnn/sim/epidemic_models.hpp"
#include "sgnn/sim/model_file.hpp"
#include "sgnn/sim/observation.hpp"
#include "sgnn/sim/ode_solver.hpp"
#include "sgnn/sim/prior.hpp"
#include "sgnn/sim/simulator.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace sgnn::sim {
namespace {

using config::default_text;
using config::OptionSpec;
using Type = OptionSpec::Type;

std::vector<std::string> ode_method_names() {
    std::vector<std::string> names;
    for (const auto& [name, help] : ode_methods()) names.push_back(name);
    return names;
}

std::vector<std::string> simulator_names() {
    std::vector<std::string> names;
    for (const auto& [name, factory] : simulator_registry()) names.push_back(name);
    names.emplace_back("mixture");
    return names;
}

// "sir, seir, ..." or "every model", for the help of prior.NAME.
std::string users_of(const std::string& parameter) {
    for (const auto& step : ObservationModel::step_names()) {
        const auto names = ObservationModel::parameters_of(step);
        if (std::find(names.begin(), names.end(), parameter) != names.end()) return "the observation step " + step;
    }
    // Some parameters exist only in another form of a model (sim.parameterize_by):
    // growth_rate, beta and gamma are listed with the form that draws them.
    const auto has = [&](const SimulatorFactory& factory, const std::string& form) {
        SimulatorOptions options;
        options.parameterize_by = form;
        try {
            const auto names = factory(options)->parameters();
            return std::find(names.begin(), names.end(), parameter) != names.end();
        } catch (const ConfigError&) {
            return false;  // a model without this form
        }
    };
    if (parameter == kOnsetOffset) return "every model with sim.onset_offset = on";
    std::string users;
    for (const std::string form : {"R0", "growth_rate", "rates"}) {
        std::string these;
        for (const auto& [name, factory] : simulator_registry()) {
            if (has(factory, form) && (form == "R0" || !has(factory, "R0")))
                these += (these.empty() ? "" : ", ") + name;
        }
        if (these.empty()) continue;
        if (form != "R0") these += " with sim.parameterize_by = " + form;
        users += (users.empty() ? "" : "; ") + these;
    }
    return users.empty() ? "no model yet" : users;
}

// Rows separated by "; ", entries by ",": "3,1.5,0.5; 1.5,2,0.7; 0.5,0.7,1".
std::string matrix_text(const std::vector<std::vector<double>>& rows) {
    std::string text;
    for (const auto& row : rows) text += (text.empty() ? "" : "; ") + default_text(row);
    return text;
}

// `name` (of sim.model, or a mechanism of sim.mixture) is a registered simulator, or a
// model file that reads without error (whose error names its file, line and column).
void check_simulator(const config::OptionReader& v, const std::string& key, const std::string& name,
                     bool mixture_allowed) {
    if (is_model_file(name)) {
        read_model_file(name);
        return;
    }
    if (simulator_registry().count(name) || (mixture_allowed && name == "mixture")) return;
    v.fail(key, "'" + printable(name) + "' is not a simulator (sgnn list simulators) nor a model file (FILE.model)");
}

// What uses each parameter in this run: "R0 of simulator sir", "reporting_rate of the
// observation step report", for error messages.
std::map<std::string, std::string> parameter_roles(const TaskConfig& task) {
    std::map<std::string, std::string> roles;
    for (const auto& model : task_simulators(task)) {
        for (const auto& name : make_simulator(model)->parameters()) {
            std::string& role = roles[name];
            role = role.empty() ? name + " is a parameter of simulator " + model : role + ", " + model;
        }
    }
    for (const auto& step : task.observation) {
        for (const auto& name : ObservationModel::parameters_of(step)) {
            roles[name] = name + " is a parameter of the observation step " + step;
        }
    }
    if (task.options.onset_offset) roles[kOnsetOffset] = "onset_offset is used with sim.onset_offset = on";
    return roles;
}

}  // namespace

std::vector<OptionSpec> task_options() {
    const TaskConfig task;
    const SimulatorOptions& model = task.options;
    std::vector<OptionSpec> specs = {
        {"sim.model", Type::text, default_text(task.model),
         "simulator: one of " + join_list(simulator_names(), ", ") +
             " (sgnn list simulators describes each; mixture: each sample's mechanism drawn from sim.mixture), or a "
             "model file FILE.model (docs/models.md; models/ has examples), whose own parameters take prior.NAME"},
        // The struct's mixture is empty: only sim.model = mixture reads this option.
        {"sim.mixture", Type::text, "sir:1,seir:1",
         "sim.model = mixture: mechanisms and their weights (normalized), NAME:WEIGHT comma-separated. Samples carry "
         "their mechanism as a label; the target 'mechanism' trains a classifier, and a target a mechanism lacks is "
         "masked in its samples"},
        {"sim.days", Type::integer, default_text(task.days),
         "entries of each simulated series: days of reported incidence, or for ODE models outputs "
         "ode.output_interval apart",
         7, 3650},
        {"sim.targets", Type::text, default_text(task.targets),
         "comma-separated targets to learn: any parameter or derived quantity of the model, or log_ of one "
         "(sgnn list simulators shows them); 'parameters' stands for every parameter, and with sim.model = mixture "
         "'mechanism' trains a classifier of the mechanism"},
        {"sim.threads", Type::integer, default_text(task.threads), "OpenMP threads per simulator rank", 1, 256},
        {"sim.max_ssa_events", Type::real, default_text(task.max_ssa_events),
         "exact SSA models (sir_gillespie, seir_gillespie): the most events one sample may cost, 2-3 per individual "
         "of the largest population the prior allows (about 15 ns each); a prior above it is refused",
         1, 1e15},
        {"sim.max_dropped_fraction", Type::real, default_text(task.max_dropped_fraction),
         "a simulator rank that drops more than this share of its samples (non-finite or negative values, or a "
         "throw; judged after 500) stops the run with an error naming the simulator and an example parameter vector",
         0, 1},
        {"sim.contact_matrix", Type::text, matrix_text(model.contact_matrix),
         "age_sir: daily contacts between groups, rows separated by ';' (row: group infected, column: "
         "infector's group); R0 is set through the spectral radius of the next-generation matrix"},
        {"sim.group_shares", Type::text, default_text(model.group_shares),
         "age_sir: population share of each group (normalized)"},
        {"sim.parameterize_by",
         Type::choice,
         default_text(model.parameterize_by),
         "epidemic models: R0 draws prior.R0; growth_rate draws prior.growth_rate, the early exponential growth "
         "rate r, and derives R0 = 1 + r/gamma (with a latent class (1 + r/sigma)(1 + r/gamma)), so that "
         "mechanisms compared under one prior on r grow alike early on; rates draws prior.beta and prior.gamma, the "
         "transmission and recovery rates, and derives R0 and the infectious period",
         0,
         0,
         {"R0", "growth_rate", "rates"}},
        {"sim.output",
         Type::choice,
         default_text(model.output),
         "epidemic models: incidence = new infections per day (per ode.output_interval for ODE models); "
         "prevalence = the infectious share I(t)/N (sir_ode and seir_ode), e.g. for the survey observation step",
         0,
         0,
         {"incidence", "prevalence"}},
        {"sim.onset_offset", Type::boolean, default_text(model.onset_offset),
         "every model: each sample's epidemic starts prior.onset_offset days before its observed window of sim.days "
         "(the simulation runs from the seeding, and the series the network sees starts later), as real surveillance "
         "starts after the seeding; onset_offset becomes a parameter and a possible target. Off: the window starts "
         "at the seeding, where a model seeded with infectious cases (seir, seair) reports 0 on day 0"},
        {"sim.generation_interval", Type::text, default_text(model.generation_interval),
         "epidemic models: the generation (or serial) interval's mean and sd in days, as EpiEstim's mean_si and "
         "std_si, e.g. 2.6, 1.5; it sets the infectious and latent periods in place of their priors (SIR-type models "
         "use the mean alone; docs/simulators.md derives each model's generation interval). Empty: the priors apply"},
        {"sim.steps_per_day", Type::integer, default_text(model.steps_per_day),
         "chain-binomial models (sir, seir, seair, sirs, age_sir, and model files under sim.method = "
         "chain_binomial; tau_leap takes 4 x this): steps per day, each with every rate divided by the count; 1 is "
         "the classic daily model, more steps approach the continuous-time model",
         1, 1440},
        {"sim.method",
         Type::choice,
         default_text(model.method),
         "model files (sim.model = FILE.model): chain_binomial (binomial steps, sim.steps_per_day a day), tau_leap "
         "(Poisson steps, 4 x sim.steps_per_day a day, clipped to the compartments), gillespie (exact "
         "continuous-time SSA) or ode (the mean-field equations, PETSc TS with the ode.* settings); "
         "docs/models.md. Built-in models choose by name (sir_gillespie, seir_tauleap, sir_ode)",
         0,
         0,
         {"chain_binomial", "tau_leap", "gillespie", "ode"}},
        {"obs.steps", Type::text, default_text(task.observation),
         "observation model, steps applied in order: report (binomial thinning), delay (gamma reporting delay), "
         "negbin (negative-binomial noise), weekend (weekend under-reporting, caught up on Monday), weekly "
         "(weekly totals), missing (entries missing at random, fed to the network as -1), delay_pmf (delay with "
         "the distribution obs.delay_pmf), gaussian (additive noise, sd noise_sd), lognormal (multiplicative noise, "
         "sd noise_sdlog on the log scale), survey (positives among survey_size people tested, for a prevalence), "
         "clamp (values clamped to [clamp_min, clamp_max]), truncate (only the first prior.observed_days entries seen, "
         "the "
         "rest missing: one network for series of any length up to sim.days; the last step); an empty list observes "
         "the simulated series as it is"},
        {"obs.delay_pmf", Type::text, default_text(task.delay_pmf),
         "for the delay_pmf step: comma-separated P(delay = 0, 1, 2, ... days), normalized"},
        {"obs.transform",
         Type::choice,
         default_text(task.transform),
         "what the network sees of each observed value x: log1p = log(1 + x) (counts; negative values drop the "
         "sample), identity = x (for Gaussian noise on ODE states)",
         0,
         0,
         {"log1p", "identity"}},
        {"ode.method", Type::choice, default_text(model.ode.method),
         "ODE models: PETSc TS Runge-Kutta method (sgnn list simulators describes "
         "each)",
         0, 0, ode_method_names()},
        {"ode.rtol", Type::real, default_text(model.ode.rtol),
         "ODE models: relative tolerance of each step's local error", 1e-14, 0.1},
        {"ode.atol", Type::real, default_text(model.ode.atol),
         "ODE models: absolute tolerance of each step's local error", 1e-300, 1e6},
        {"ode.output_interval", Type::real, default_text(model.ode.output_interval),
         "ODE models: model time between consecutive entries of a series; entry k is the state at "
         "k * output_interval (1 = daily; sim.days entries in all)",
         1e-6, 1e6},
        {"ode.petsc_options", Type::text, default_text(model.ode.petsc_options),
         "ODE models: PETSc options database text, e.g. '-ts_type rk -ts_rk_type 3bs -ts_adapt_type basic'; options "
         "written as -name [value] on the command line are appended here. Options PETSc does not use are an error"},
    };
    for (const ParameterSpec& p : parameter_catalog()) {
        OptionSpec spec{"prior." + p.name, Type::prior, p.default_prior,
                        p.help + "; values must be " + p.domain.describe() + "; used by " + users_of(p.name)};
        specs.push_back(spec);
    }
    specs.push_back({"prior.*", Type::prior, "",
                     "the prior of a parameter NAME that a model file (sim.model = FILE.model) declares itself, in "
                     "place of the file's default (docs/models.md)"});
    return specs;
}

TaskConfig read_task_config(const config::OptionReader& v) {
    TaskConfig task;
    task.model = v.text("sim.model");
    check_simulator(v, "sim.model", task.model, true);
    task.days = v.small_integer("sim.days");
    task.targets = split_list(v.text("sim.targets"));
    std::set<std::string> unique(task.targets.begin(), task.targets.end());
    if (task.targets.empty()) v.fail("sim.targets", "name at least one target");
    if (unique.size() != task.targets.size()) v.fail("sim.targets", "a target is listed twice");
    task.threads = v.small_integer("sim.threads");
    task.max_ssa_events = v.number("sim.max_ssa_events");
    task.max_dropped_fraction = v.number("sim.max_dropped_fraction");
    if (task.model == "mixture") {
        for (const std::string& item : split_list(v.text("sim.mixture"))) {
            const auto colon = item.find(':');
            const std::string name = item.substr(0, colon);
            double weight = 1.0;
            if (colon != std::string::npos) {
                const std::vector<double> w = v.numbers("sim.mixture", item.substr(colon + 1));
                if (w.size() != 1 || !(w[0] > 0.0)) v.fail("sim.mixture", "the weight of '" + name + "' must be > 0");
                weight = w[0];
            }
            check_simulator(v, "sim.mixture", name, false);
            task.mixture.emplace_back(name, weight);
        }
        if (task.mixture.size() < 2)
            v.fail("sim.mixture", "a mixture needs at least two mechanisms, e.g. sir:1,seir:1");
        // A run keeps its model files by their own names (RUN/models/NAME).
        std::map<std::string, std::string> by_name;
        for (const auto& [name, weight] : task.mixture) {
            if (!is_model_file(name)) continue;
            const auto [it, added] = by_name.emplace(model_file_copy_name(name), name);
            if (!added && it->second != name) {
                v.fail("sim.mixture", it->second + " and " + name + " have the same file name; a run keeps a copy " +
                                          "of each model file by its name, so rename one");
            }
        }
    }
    task.observation = split_list(v.text("obs.steps"));
    if (!v.text("obs.delay_pmf").empty()) task.delay_pmf = v.numbers("obs.delay_pmf");
    task.transform = v.choice("obs.transform");
    task.options.steps_per_day = v.small_integer("sim.steps_per_day");
    task.options.method = v.choice("sim.method");
    if (task.options.method != "chain_binomial") {
        for (const auto& model : task_simulators(task)) {
            if (!is_model_file(model)) {
                v.fail("sim.method", "applies to model files only; " + model +
                                         " is built in (its exact, tau-leaping and ODE forms are sir_gillespie, "
                                         "seir_gillespie, sir_tauleap, seir_tauleap, sir_ode and seir_ode)");
            }
        }
    }
    task.options.parameterize_by = v.choice("sim.parameterize_by");
    task.options.output = v.choice("sim.output");
    task.options.onset_offset = v.boolean("sim.onset_offset");
    if (!v.text("sim.generation_interval").empty())
        task.options.generation_interval = v.numbers("sim.generation_interval");
    task.options.ode.output_interval = v.number("ode.output_interval");
    task.options.ode.method = v.choice("ode.method");
    task.options.ode.rtol = v.number("ode.rtol");
    task.options.ode.atol = v.number("ode.atol");
    task.options.ode.petsc_options = v.text("ode.petsc_options");
    task.options.group_shares = v.numbers("sim.group_shares");
    task.options.contact_matrix.clear();
    std::stringstream rows(v.text("sim.contact_matrix"));
    for (std::string row; std::getline(rows, row, ';');) {
        if (row.find_first_not_of(" \t") == std::string::npos) continue;
        task.options.contact_matrix.push_back(v.numbers("sim.contact_matrix", row));
    }
    const std::map<std::string, std::string> roles = parameter_roles(task);
    for (const ParameterSpec& p : parameter_catalog()) {
        const auto role = roles.find(p.name);
        const std::string key = "prior." + p.name;
        task.priors[p.name] = v.checked(
            key, [&](const std::string& text) { ParameterPrior::parse(key, text, p.domain); },
            role != roles.end() ? role->second : p.name + " is not used by sim.model = " + task.model);
        // Set, and to something else than the catalog's default: a config.ini that records
        // every prior replays a model file's own defaults (and a mixture of files with
        // different ones), which an unset prior would have used.
        if (v.given(key) && task.priors[p.name] != p.default_prior) task.priors_given.insert(p.name);
    }
    // prior.NAME of a model file's own parameter (an open key: any NAME parses).
    for (const std::string& key : v.open_keys()) {
        const std::string name = key.substr(key.find('.') + 1);
        const auto role = roles.find(name);
        if (role == roles.end()) {
            std::string declared;
            for (const auto& model : task_simulators(task)) {
                if (!is_model_file(model)) continue;
                for (const auto& spec : make_simulator(model)->declared_parameters())
                    declared += (declared.empty() ? "" : ", ") + spec.name;
            }
            v.fail(key, "no parameter " + name + " in " +
                            (declared.empty() ? "the catalog (sgnn train --help lists every prior.NAME)"
                                              : "the catalog nor in the model files (they declare " + declared + ")"));
        }
        task.priors[name] = v.checked(
            key, [&](const std::string& text) { ParameterPrior::parse(key, text, parameter_domain(name)); },
            role->second);
        task.priors_given.insert(name);
    }
    if (!task.options.generation_interval.empty()) {
        // The periods come from the generation interval: a prior for them would be ignored.
        for (const char* period : {"infectious_period", "latent_period"}) {
            if (task.priors[period] != parameter_spec(period).default_prior) {
                v.fail("prior." + std::string(period), "sim.generation_interval sets the periods; remove prior." +
                                                           std::string(period) + " or sim.generation_interval");
            }
        }
        for (const auto& model : task_simulators(task)) {
            try {
                periods_for_generation_interval(model, task.options);
            } catch (const ConfigError& error) {
                const std::string what = error.what();  // "sim.generation_interval...: problem"
                v.fail("sim.generation_interval", what.substr(what.find(": ") + 2));
            }
        }
    }
    return task;
}

std::map<std::string, std::string> model_file_priors(const TaskConfig& task) {
    std::map<std::string, std::set<std::string>> declared;  // parameter -> the files' defaults
    for (const auto& model : task_simulators(task)) {
        if (!is_model_file(model)) continue;
        for (const auto& spec : make_simulator(model, task.options)->declared_parameters()) {
            if (task.priors_given.count(spec.name) == 0) declared[spec.name].insert(spec.default_prior);
        }
    }
    std::map<std::string, std::string> priors;
    for (const ParameterSpec& p : parameter_catalog()) {
        const auto it = declared.find(p.name);
        if (it != declared.end() && it->second.size() == 1) priors["prior." + p.name] = *it->second.begin();
    }
    return priors;
}

}  // namespace sgnn::sim
