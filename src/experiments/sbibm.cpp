// The sbibm experiment: amortized posteriors on the SBI benchmark's SIR and
// Lotka-Volterra tasks (Lueckmann et al. 2021), scored by C2ST against the benchmark's
// reference posteriors and set beside the published results of its algorithms.
//
// Each task is a config in configs/sbibm/ (experiment.tasks), the benchmark's
// definition exactly; the experiment's own config (configs/paper/sbibm.cfg) and the
// command line add the head and the training settings on top of it. For each task:
//   1. the benchmark's observations 1-5 (data/sbibm/TASK/obsK/observation.csv) as sgnn
//      observation CSVs, observations/TASK-obsK.csv, which `sgnn predict` reads too;
//   2. per corpus budget B (1e3, 1e4, 1e5): a corpus of B simulations, a flow trained
//      on it for experiment.epochs passes (clamped to experiment.min_steps and
//      max_steps), with the learning rate decaying to train.lr_min: the budget is the
//      number of simulations the network ever sees, as in the benchmark;
//   3. per streamed budget B (1e6, 1e7 at paper scale): a flow trained on B fresh
//      simulations streamed once (B / stream.batch_size steps);
//   4. experiment.posterior_draws draws (10,000) for each observation from each network,
//      scored by scripts/c2st.py against as many reference draws (the benchmark's
//      classifier, folds and z-scoring), the scores shared out over all ranks.
// One trainer per network, so the networks and the scores do not depend on the rank
// count. Every network is trained without early stopping or model selection: the
// held-out simulations of its final evaluation are reported (calibration), not used.
//
// Run:     build/sgnn experiment sbibm --scale quick                 (a few minutes)
//          mpiexec -n 4 build/sgnn experiment sbibm --scale paper     (jobs/paper/sbibm.sbatch)
// Settings: configs/paper/sbibm.cfg. Outputs: c2st.csv (one row per task, budget and
// observation), c2st_by_budget.csv (means beside the published algorithms' over the
// same observations), draws/,
// observations/, one run directory per network, c2st_vs_budget.png and summary.json
// (the targets of docs/results.md as claims).
#include "sgnn/clock.hpp"
#include "sgnn/coord/progress.hpp"
#include "sgnn/corpus/corpus_writer.hpp"
#include "sgnn/error.hpp"
#include "sgnn/experiments/harness.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/csv.hpp"
#include "sgnn/io/installation.hpp"
#include "sgnn/io/observation_csv.hpp"
#include "sgnn/io/subprocess.hpp"
#include "sgnn/run/run.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/text.hpp"
#include "sgnn/train/predictor.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

namespace sgnn::experiments {
namespace {

// The benchmark's algorithms drawn beside ours, and its name for each task.
const std::vector<std::string> kPublishedAlgorithms = {"NPE", "SNPE", "SNLE", "SNRE"};

// Where the benchmark's own numbers are met (docs/results.md): the mean C2ST over
// observations at 1e5 simulations, and with the largest streamed budget.
struct Target {
    double at_1e5, streamed;
};
const std::map<std::string, Target> kTargets = {{"sir", {0.55, 0.52}}, {"lotka_volterra", {0.75, 0.60}}};

struct Task {
    std::string name;    // the benchmark's (sir, lotka_volterra): data/sbibm/NAME
    std::string config;  // configs/sbibm/NAME.cfg as found
    run::RunConfig run;
    std::vector<std::string> observation_files;  // observations/NAME-obsK.csv
    int days = 0, channels = 1;                  // the series' shape, as the network sees it
    std::vector<std::string> target_names;
    std::vector<std::string> reference_files;  // data/sbibm/NAME/obsK/reference_posterior_samples.csv
};

// One network of one task.
struct Network {
    std::size_t task = 0;
    double budget = 0.0;
    bool streamed = false;
    std::int64_t steps = 0;
    double seconds = 0.0;
    std::string dir;
};

// C2STs to four decimals, as the benchmark reports them.
std::string rounded(double c2st) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4f", c2st);
    return text;
}

std::vector<std::string> csv_cells(const std::string& line) {
    std::vector<std::string> cells;
    std::stringstream stream(line);
    for (std::string cell; std::getline(stream, cell, ',');) {
        if (!cell.empty() && cell.back() == '\r') cell.pop_back();
        cells.push_back(cell);
    }
    return cells;
}

// The benchmark's observation (one row of days x channels values, channel after
// channel) rewritten as sgnn reads an observed series: one row per time point, one
// column per channel.
void write_observation(const std::string& from, const std::string& to, int days, int channels) {
    std::ifstream in(from);
    std::string header, row;
    if (!std::getline(in, header) || !std::getline(in, row)) throw ConfigError(from + ": no observation row");
    const std::vector<std::string> cells = csv_cells(row);
    if (static_cast<int>(cells.size()) != days * channels) {
        throw ConfigError(from + ": " + std::to_string(cells.size()) + " values, but the task's config sees " +
                          std::to_string(days) + " times x " + std::to_string(channels) + " series");
    }
    std::string text;
    for (int c = 0; c < channels; ++c) text += (c ? ",series" : "series") + std::to_string(c + 1);
    text += "\n";
    for (int t = 0; t < days; ++t) {
        for (int c = 0; c < channels; ++c) text += (c ? "," : "") + cells[static_cast<std::size_t>(c * days + t)];
        text += "\n";
    }
    io::write_file_atomically(to, text);
}

// Mean published C2ST over the given observations of the benchmark (it reports means
// over observations 1-10; here only the ones scored count, so that both sides of a
// comparison average over the same observations), by task, algorithm and budget.
using Published = std::map<std::string, std::map<std::string, std::map<double, double>>>;

Published published_c2st(const std::vector<int>& observations) {
    const std::string path = shipped_file("data/sbibm/published_c2st.csv");
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    if (csv_cells(line) != std::vector<std::string>{"task", "algorithm", "num_simulations", "num_observation", "C2ST"})
        throw std::runtime_error(path + ": not the benchmark's table (header " + line + ")");
    std::map<std::string, std::map<std::string, std::map<double, std::pair<double, int>>>> sums;
    while (std::getline(in, line)) {
        const std::vector<std::string> cells = csv_cells(line);
        double budget = 0.0, observation = 0.0, c2st = 0.0;
        if (cells.size() != 5 || !parse_decimal(cells[2], budget) || !parse_decimal(cells[3], observation) ||
            !parse_decimal(cells[4], c2st))
            continue;
        if (std::find(observations.begin(), observations.end(), static_cast<int>(observation)) == observations.end())
            continue;
        auto& [sum, count] = sums[cells[0]][cells[1]][budget];
        sum += c2st;
        ++count;
    }
    Published means;
    for (const auto& [task, algorithms] : sums)
        for (const auto& [algorithm, budgets] : algorithms)
            for (const auto& [budget, s] : budgets) means[task][algorithm][budget] = s.first / s.second;
    return means;
}

// Reads a task's config under the experiment's settings: the task file is the base, the
// experiment's config file and command line go over it (the head, the training).
Task read_task(const ExperimentContext& context, const std::string& name) {
    Task task;
    task.name = name;
    task.config = shipped_file("configs/sbibm/" + name + ".cfg");
    std::ifstream in(task.config);
    std::stringstream text;
    text << in.rdbuf();
    task.run = run::make_run_config(config::parse_options(context.args, experiment_options(), text.str(), task.config));
    if (task.run.train.model.head == "mean") {
        throw ConfigError(
            "model.head = mean: the sbibm experiment scores posterior draws; use model.head = flow or "
            "mixture");
    }
    return task;
}

std::vector<double> budgets_of(const config::OptionReader& options, const std::string& key) {
    if (options.text(key).empty()) return {};
    std::vector<double> budgets = options.numbers(key);
    for (double b : budgets)
        if (!(b >= 100) || std::floor(b) != b) options.fail(key, "budgets are whole numbers >= 100");
    std::sort(budgets.begin(), budgets.end());
    return budgets;
}

// Trains one network; every rank takes part.
void train_network(const ExperimentContext& context, const Task& task, Network& network, double epochs,
                   std::int64_t min_steps, std::int64_t max_steps, bool keep_corpus) {
    const auto started = std::chrono::steady_clock::now();
    run::RunConfig run = task.run;
    const double batch = run.stream.batch_size;
    if (context.is_root()) std::filesystem::create_directories(network.dir);
    comm::check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    if (network.streamed) {
        network.steps = std::llround(network.budget / batch);
    } else {
        const std::string corpus = network.dir + "/corpus.h5";
        corpus::write_corpus(run, static_cast<std::uint64_t>(network.budget), corpus, 4096, false);
        run.data = corpus;
        network.steps = std::clamp<std::int64_t>(std::llround(epochs * network.budget / batch), min_steps, max_steps);
        run.schedule.ramp_steps = 0;
    }
    train_streamed(context, run, network.dir, network.steps);
    if (context.is_root() && !network.streamed && !keep_corpus) std::filesystem::remove(network.dir + "/corpus.h5");
    network.seconds = seconds_since(started);
    if (context.is_root()) {
        std::printf("[sgnn] %s, %s %s simulations: %lld steps in %s\n", task.name.c_str(),
                    network.streamed ? "streamed" : "a corpus of", format_number(network.budget).c_str(),
                    static_cast<long long>(network.steps), coord::format_duration(network.seconds).c_str());
        std::fflush(stdout);
    }
}

}  // namespace

io::Json run_sbibm(ExperimentContext& context) {
    // 1. The settings, the tasks, and the benchmark's observations as sgnn reads them.
    const config::OptionReader options(context.options, experiment_options());
    const std::vector<double> corpus_budgets = budgets_of(options, context.scaled_key("budgets"));
    const std::vector<double> streamed_budgets = budgets_of(options, context.scaled_key("streamed_budgets"));
    if (corpus_budgets.empty() && streamed_budgets.empty())
        options.fail(context.scaled_key("budgets"), "give at least one budget");
    std::vector<int> observations;
    for (double k : options.numbers(context.scaled_key("observations"))) {
        if (k < 1 || k > 5 || std::floor(k) != k)
            options.fail(context.scaled_key("observations"), "the benchmark's observations are 1, 2, 3, 4 and 5");
        observations.push_back(static_cast<int>(k));
    }
    const int draws = options.small_integer(context.scaled_key("posterior_draws"));
    const double epochs = options.number("experiment.epochs");
    const std::int64_t min_steps = options.integer("experiment.min_steps");
    const std::int64_t max_steps = options.integer(context.scaled_key("max_steps"));
    const bool keep_corpora = options.boolean("experiment.keep_corpora");
    std::vector<Task> tasks;
    for (const std::string& name : split_list(options.text("experiment.tasks"))) {
        if (!kTargets.count(name))
            options.fail("experiment.tasks", "the benchmark's tasks here are sir and lotka_volterra");
        tasks.push_back(read_task(context, name));
    }
    if (tasks.empty()) options.fail("experiment.tasks", "name at least one task (sir, lotka_volterra)");
    for (Task& task : tasks) {
        const auto simulator = sim::make_task(task.run.task);
        const sim::SampleLayout& layout = simulator->layout();
        task.channels = layout.n_channels;
        task.days = layout.n_inputs / layout.n_channels;
        task.target_names = layout.target_names;
        for (int k : observations) {
            const std::string folder = "data/sbibm/" + task.name + "/obs" + std::to_string(k);
            task.reference_files.push_back(shipped_file(folder + "/reference_posterior_samples.csv"));
            task.observation_files.push_back(context.out + "/observations/" + task.name + "-obs" + std::to_string(k) +
                                             ".csv");
            if (context.is_root()) {
                io::make_directories(context.out + "/observations");
                write_observation(shipped_file(folder + "/observation.csv"), task.observation_files.back(), task.days,
                                  task.channels);
            }
        }
    }

    // 2-3. The networks: corpora, then streamed budgets, task after task.
    std::vector<Network> networks;
    for (std::size_t t = 0; t < tasks.size(); ++t) {
        for (double budget : corpus_budgets)
            networks.push_back(
                {t, budget, false, 0, 0.0, context.out + "/" + tasks[t].name + "/corpus-" + format_number(budget)});
        for (double budget : streamed_budgets)
            networks.push_back(
                {t, budget, true, 0, 0.0, context.out + "/" + tasks[t].name + "/stream-" + format_number(budget)});
    }
    for (Network& network : networks)
        train_network(context, tasks[network.task], network, epochs, min_steps, max_steps, keep_corpora);
    comm::check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");  // every model.h5 is written

    // 4. Draws for every network and observation, each rank its share, then its
    //    classifiers in one process.
    if (context.is_root()) io::make_directories(context.out + "/draws");
    comm::check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    const int n_obs = static_cast<int>(observations.size());
    const int n_scores = static_cast<int>(networks.size()) * n_obs;
    std::vector<std::pair<std::string, std::string>> my_pairs;
    std::vector<int> my_indices;
    const auto sampling_started = std::chrono::steady_clock::now();
    std::unique_ptr<train::Predictor> predictor;  // the network of the last j, kept while j stays on it
    std::size_t loaded = networks.size();
    for (int j = context.mpi->world_rank(); j < n_scores; j += context.mpi->world_size()) {
        const auto n = static_cast<std::size_t>(j / n_obs);
        const Network& network = networks[n];
        const Task& task = tasks[network.task];
        const int o = j % n_obs;
        if (loaded != n) {
            predictor = std::make_unique<train::Predictor>(network.dir + "/model.h5");
            loaded = n;
        }
        const std::vector<float> inputs =
            io::read_observation_csv(task.observation_files[static_cast<std::size_t>(o)], task.days, task.channels,
                                     task.run.task.transform, false);
        // Seeds apart for every network and observation; the same on every rerun.
        const std::uint64_t seed = task.run.seed * 1000003ULL + static_cast<std::uint64_t>(j);
        const std::vector<double> sample = predictor->sample(inputs.data(), 1, draws, seed);
        std::string text = join_list(task.target_names) + "\n";
        const auto n_t = static_cast<int>(task.target_names.size());
        char cell[32];
        for (int k = 0; k < draws; ++k) {
            for (int i = 0; i < n_t; ++i) {
                std::snprintf(cell, sizeof cell, "%s%.9g", i ? "," : "", sample[static_cast<std::size_t>(k * n_t + i)]);
                text += cell;
            }
            text += "\n";
        }
        const std::string file = context.out + "/draws/" + task.name + "-" +
                                 (network.streamed ? "stream-" : "corpus-") + format_number(network.budget) + "-obs" +
                                 std::to_string(observations[static_cast<std::size_t>(o)]) + ".csv";
        io::write_file_atomically(file, text);
        my_pairs.emplace_back(task.reference_files[static_cast<std::size_t>(o)], file);
        my_indices.push_back(j);
    }
    const int jobs = c2st_jobs(*context.mpi);
    if (context.is_root()) {
        std::printf("[sgnn] %d x %d posterior draws in %s; scoring %d C2STs (%d ranks, %d classifier(s) each)\n",
                    n_scores, draws, coord::format_duration(seconds_since(sampling_started)).c_str(), n_scores,
                    context.mpi->world_size(), jobs);
        std::fflush(stdout);
    }
    const auto scoring_started = std::chrono::steady_clock::now();
    std::vector<double> scores(static_cast<std::size_t>(n_scores), 0.0);
    if (!my_pairs.empty()) {
        const std::vector<double> mine = c2st_scores(
            my_pairs, context.out + "/draws/pairs-rank" + std::to_string(context.mpi->world_rank()) + ".csv", jobs);
        for (std::size_t i = 0; i < mine.size(); ++i) scores[static_cast<std::size_t>(my_indices[i])] = mine[i];
    }
    reduce_to_root(scores, *context.mpi);
    if (!context.is_root()) return {};
    std::printf("[sgnn] C2ST scored in %s\n", coord::format_duration(seconds_since(scoring_started)).c_str());

    // 5. The tables, beside the published results, and the targets.
    const auto published = published_c2st(observations);
    io::CsvTable per_observation(context.out + "/c2st.csv", {"task", "budget", "data", "steps", "observation", "c2st"});
    std::vector<std::string> columns = {"task", "budget", "data", "steps", "train_seconds", "c2st_mean", "c2st_sd"};
    for (const auto& a : kPublishedAlgorithms) columns.push_back("published_" + a);
    columns.push_back("published_best");
    columns.push_back("target");  // where docs/results.md sets one: 1e5 simulations, the largest streamed budget
    io::CsvTable by_budget(context.out + "/c2st_by_budget.csv", columns);
    io::Json results = io::Json::object(), claims = io::Json::object();
    for (std::size_t n = 0; n < networks.size(); ++n) {
        const Network& network = networks[n];
        const Task& task = tasks[network.task];
        const std::string data = network.streamed ? "stream" : "corpus";
        double sum = 0.0, sum_sq = 0.0;
        io::Json each = io::Json::array();
        for (int o = 0; o < n_obs; ++o) {
            const double c = scores[n * static_cast<std::size_t>(n_obs) + static_cast<std::size_t>(o)];
            sum += c;
            each.push_back(c);
            per_observation.add_text_row({task.name, format_number(network.budget), data, std::to_string(network.steps),
                                          std::to_string(observations[static_cast<std::size_t>(o)]), rounded(c)});
        }
        const double mean = sum / n_obs;
        for (const auto& c : each) sum_sq += (c.get<double>() - mean) * (c.get<double>() - mean);
        const double sd = n_obs > 1 ? std::sqrt(sum_sq / (n_obs - 1)) : 0.0;
        std::vector<std::string> row = {task.name,
                                        format_number(network.budget),
                                        data,
                                        std::to_string(network.steps),
                                        format_number(std::round(network.seconds)),
                                        rounded(mean),
                                        rounded(sd)};
        io::Json beside = io::Json::object();
        double best = 1.0;
        bool any = false;
        static const Published::mapped_type kNone;
        const auto found = published.find(task.name);
        for (const auto& [algorithm, budgets] : found == published.end() ? kNone : found->second) {
            const auto it = budgets.find(network.budget);
            if (it == budgets.end()) continue;
            best = std::min(best, it->second);
            any = true;
            if (std::find(kPublishedAlgorithms.begin(), kPublishedAlgorithms.end(), algorithm) !=
                kPublishedAlgorithms.end())
                beside[algorithm] = it->second;
        }
        for (const auto& a : kPublishedAlgorithms)
            row.push_back(beside.contains(a) ? rounded(beside[a].get<double>()) : "");
        row.push_back(any ? rounded(best) : "");
        if (any) beside["best"] = best;
        // The targets: at 1e5 simulations, and at the largest streamed budget.
        const Target& target = kTargets.at(task.name);
        std::string goal;
        if (!network.streamed && network.budget == 1e5) {
            claims[task.name + "_at_1e5_within_target"] = mean <= target.at_1e5;
            goal = format_number(target.at_1e5);
        }
        if (network.streamed && network.budget == streamed_budgets.back()) {
            claims[task.name + "_streamed_within_target"] = mean <= target.streamed;
            goal = format_number(target.streamed);
        }
        row.push_back(goal);
        by_budget.add_text_row(row);
        results[task.name][format_number(network.budget)] = {
            {"data", data},       {"steps", network.steps}, {"train_seconds", network.seconds},
            {"c2st_mean", mean},  {"c2st_sd", sd},          {"c2st", each},
            {"published", beside}};
        std::printf("[sgnn] %s, %s %s: C2ST %.3f (sd %.3f over %d observations)%s\n", task.name.c_str(),
                    format_number(network.budget).c_str(), data.c_str(), mean, sd, n_obs,
                    any ? (", published best " + rounded(best)).c_str() : "");
    }
    per_observation.save();
    by_budget.save();
    std::fflush(stdout);
    io::Json targets = io::Json::object();
    for (const Task& task : tasks)
        targets[task.name] = {{"at_1e5", kTargets.at(task.name).at_1e5}, {"streamed", kTargets.at(task.name).streamed}};
    io::Json settings = io::Json::object();
    for (const Task& task : tasks) {
        const auto& m = task.run.train.model;
        settings[task.name] = {
            {"config", std::filesystem::path(task.config).filename().string()},
            {"seed", task.run.seed},
            {"embedding", m.type + " " + std::to_string(m.hidden) + " wide, " + std::to_string(m.blocks) + " blocks"},
            {"head", m.head == "flow"
                         ? "flow: " + std::to_string(m.flow_transforms) + " spline layers, " +
                               std::to_string(m.flow_bins) + " bins, MADE " + std::to_string(m.flow_hidden) + " wide"
                         : "mixture of " + std::to_string(m.components) + " Gaussians"},
            {"batch_size", task.run.stream.batch_size},
            {"lr", task.run.train.optimizer.learning_rate}};
    }
    return {{"observations", observations},
            {"posterior_draws", draws},
            {"epochs", epochs},
            {"settings", settings},
            {"c2st", results},
            {"targets", targets},
            {"claims_hold", claims},
            {"tables", {"c2st.csv", "c2st_by_budget.csv"}}};
}

}  // namespace sgnn::experiments
