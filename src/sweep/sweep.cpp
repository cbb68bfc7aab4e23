#include "sgnn/sweep/sweep.hpp"

#include "sgnn/config/options.hpp"
#include "sgnn/error.hpp"
#include "sgnn/experiments/harness.hpp"
#include "sgnn/io/csv.hpp"
#include "sgnn/io/json_file.hpp"
#include "sgnn/run/options.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace sgnn::sweep {
namespace {

const char* kSweepHelp = R"TXT(sgnn sweep - parameter grids for SLURM job arrays (jobs/sweep.sbatch)

A sweep file (configs/*.sweep) names a base config and a grid of option values:

  config = quickstart.cfg           # relative to the sweep file's folder
  [grid]
  train.steps = 500 1000 2000       # values separated by spaces; "quote a value" with spaces
  seed = 1 2

Its tasks are the grid's points, the last key varying fastest: 6 tasks here, task 0 =
(500, 1), task 1 = (500, 2), task 2 = (1000, 1), ... Any `sgnn train` option can be a
grid key (sgnn list options).

Sample runs:
  build/sgnn sweep show configs/budget.sweep        # the tasks, checked as sgnn train would
  build/sgnn sweep size configs/budget.sweep        # the task count, for sbatch --array=0-(N-1)
  build/sgnn sweep args configs/budget.sweep --task 3
  build/sgnn sweep collect configs/budget.sweep --runs runs/sweep-1234
  sbatch jobs/sweep.sbatch                           # every task, then the collection job

  show FILE                 every task with its values (checks every task's configuration)
  size FILE                 the number of tasks
  args FILE --task I        task I's `sgnn train` arguments, one per line (for job scripts)
  collect FILE --runs DIR   reads DIR/task-I/summary.json of every task; writes DIR/sweep.csv
                            (one row per task: its grid values, held-out loss, R2 and RMSE
                            per target, samples, throughput, model hash) and DIR/sweep.png
                            (held-out loss against the first grid key)
)TXT";

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r"), last = s.find_last_not_of(" \t\r");
    return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

// Space-separated values; a value in double quotes may hold spaces (a prior spec).
std::vector<std::string> split_values(const std::string& text, const std::string& where) {
    std::vector<std::string> values;
    std::size_t at = 0;
    while (true) {
        at = text.find_first_not_of(" \t", at);
        if (at == std::string::npos) break;
        if (text[at] == '"') {
            const auto close = text.find('"', at + 1);
            if (close == std::string::npos) throw ConfigError(where + ": a quoted value has no closing '\"'");
            values.push_back(text.substr(at + 1, close - at - 1));
            at = close + 1;
        } else {
            const auto end = text.find_first_of(" \t", at);
            values.push_back(text.substr(at, end == std::string::npos ? std::string::npos : end - at));
            at = end;
        }
    }
    return values;
}

std::string describe(const std::vector<std::pair<std::string, std::string>>& task) {
    std::string text;
    for (const auto& [key, value] : task) text += (text.empty() ? "" : ", ") + key + " = " + value;
    return text;
}

std::size_t task_index(const SweepGrid& grid, const std::string& text) {
    std::size_t used = 0;
    long long index = -1;
    try {
        index = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || index < 0 || static_cast<std::size_t>(index) >= grid.size()) {
        throw ConfigError("--task '" + printable(text) + "': " + grid.path + " has " + std::to_string(grid.size()) +
                          " tasks, so a task is an integer in [0, " + std::to_string(grid.size() - 1) +
                          "] (submit with sbatch --array=0-" + std::to_string(grid.size() - 1) + ")");
    }
    return static_cast<std::size_t>(index);
}

std::string read_text(const std::string& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// One CSV row per task, from DIR/task-I/summary.json; every task must have finished.
void collect(const SweepGrid& grid, const std::string& runs) {
    std::vector<io::Json> summaries;
    std::string missing;
    for (std::size_t i = 0; i < grid.size(); ++i) {
        const std::string path = runs + "/task-" + std::to_string(i) + "/summary.json";
        if (!std::filesystem::exists(path)) {
            missing += (missing.empty() ? "" : ", ") + std::to_string(i);
            continue;
        }
        try {
            summaries.push_back(io::Json::parse(read_text(path)));
        } catch (const std::exception& error) {
            throw ConfigError(path + ": not a readable summary.json (" + error.what() + ")");
        }
    }
    if (!missing.empty()) {
        throw ConfigError(runs + ": no summary.json for task(s) " + missing + " of " + std::to_string(grid.size()) +
                          " in " + grid.path +
                          "; those array tasks did not finish (see their logs, then resubmit "
                          "them with sbatch --array=LIST jobs/sweep.sbatch and SGNN_SWEEP_RUNS=" +
                          runs + ")");
    }
    // Targets in order of first appearance (a grid over sim.targets changes them).
    std::vector<std::string> targets;
    for (const auto& summary : summaries) {
        for (const auto& [target, value] : summary["eval"]["r2"].items()) {
            if (std::find(targets.begin(), targets.end(), target) == targets.end()) targets.push_back(target);
        }
    }
    std::vector<std::string> columns{"task"};
    columns.insert(columns.end(), grid.keys.begin(), grid.keys.end());
    for (const char* column : {"steps", "samples", "eval_loss"}) columns.push_back(column);
    for (const auto& target : targets) columns.push_back("r2_" + target);
    for (const auto& target : targets) columns.push_back("rmse_" + target);
    for (const char* column : {"samples_per_s", "wall_seconds", "trainers", "simulators", "model_sha256"}) {
        columns.push_back(column);
    }
    io::CsvTable table(runs + "/sweep.csv", columns);
    auto number = [](const io::Json& value) {
        char cell[32];
        std::snprintf(cell, sizeof cell, "%.9g", value.get<double>());
        return std::string(cell);
    };
    for (std::size_t i = 0; i < grid.size(); ++i) {
        const io::Json& s = summaries[i];
        std::vector<std::string> row{std::to_string(i)};
        for (const auto& [key, value] : grid.task(i)) row.push_back(value);
        row.push_back(number(s["steps"]));
        row.push_back(number(s["samples"]));
        row.push_back(number(s["eval"]["loss"]));
        for (const char* metric : {"r2", "rmse"}) {
            for (const auto& target : targets) {
                const auto& values = s["eval"][metric];
                row.push_back(values.contains(target) ? number(values[target]) : "");
            }
        }
        row.push_back(number(s["throughput"]["samples_per_s"]));
        row.push_back(number(s["wall_seconds"]));
        row.push_back(number(s["ranks"]["trainers"]));
        row.push_back(number(s["ranks"]["simulators"]));
        row.push_back(s["model_sha256"].get<std::string>());
        table.add_text_row(row);
    }
    table.save();
    std::printf("[sgnn] %s: %zu tasks collected into %s/sweep.csv\n", grid.path.c_str(), grid.size(), runs.c_str());
    for (const auto& figure : experiments::draw_figures("sweep", runs))
        std::printf("[sgnn] figure %s/%s\n", runs.c_str(), figure.c_str());
}

}  // namespace

std::size_t SweepGrid::size() const {
    std::size_t n = 1;
    for (const auto& v : values) n *= v.size();
    return n;
}

std::vector<std::pair<std::string, std::string>> SweepGrid::task(std::size_t index) const {
    std::vector<std::pair<std::string, std::string>> point(keys.size());
    for (std::size_t k = keys.size(); k-- > 0;) {
        point[k] = {keys[k], values[k][index % values[k].size()]};
        index /= values[k].size();
    }
    return point;
}

std::vector<std::string> SweepGrid::train_args(std::size_t index) const {
    std::vector<std::string> args{"--config", base_config};
    for (const auto& [key, value] : task(index)) {
        args.push_back("--" + key);
        args.push_back(value);
    }
    return args;
}

SweepGrid read_sweep_file(const std::string& path) {
    std::ifstream file(path);
    if (!file) throw ConfigError("sweep file " + path + ": cannot be read (does it exist?)");
    SweepGrid grid;
    grid.path = path;
    std::string section;
    std::string line;
    for (int number = 1; std::getline(file, line); ++number) {
        const std::string where = path + " line " + std::to_string(number);
        const std::string text = trim(line);
        if (text.empty() || text[0] == '#' || text[0] == ';') continue;
        if (text[0] == '[') {
            section = trim(text.substr(1, text.find(']') - 1));
            if (section != "grid")
                throw ConfigError(where + ": unknown section [" + section + "]; the one section is [grid]");
            continue;
        }
        const auto eq = text.find('=');
        if (eq == std::string::npos) throw ConfigError(where + ": expected KEY = VALUE, got '" + printable(text) + "'");
        const std::string key = trim(text.substr(0, eq));
        const std::string value = trim(text.substr(eq + 1));
        if (section.empty()) {
            if (key != "config") {
                throw ConfigError(where + ": unknown key '" + key +
                                  "' before [grid]; the one key there is config "
                                  "(the base config file, relative to the sweep file's folder)");
            }
            const std::filesystem::path base(value);
            grid.base_config = base.is_absolute() ? value : (std::filesystem::path(path).parent_path() / base).string();
            if (!std::filesystem::exists(grid.base_config)) {
                throw ConfigError(where + ": config = " + value + ": no such file " + grid.base_config +
                                  " (paths are relative to the sweep file's folder)");
            }
            continue;
        }
        if (!config::find_option(run::run_options(), key) || key == "out") {
            throw ConfigError(where + ": '" + key +
                              "' is not an option a sweep can vary (the options: sgnn list options;"
                              " each task's output directory is set by the job script)");
        }
        if (std::find(grid.keys.begin(), grid.keys.end(), key) != grid.keys.end()) {
            throw ConfigError(where + ": " + key + " appears twice in [grid]; list all its values on one line");
        }
        auto values = split_values(value, where);
        if (values.empty()) throw ConfigError(where + ": " + key + " has no values");
        std::set<std::string> distinct(values.begin(), values.end());
        if (distinct.size() != values.size()) throw ConfigError(where + ": " + key + " lists a value twice");
        grid.keys.push_back(key);
        grid.values.push_back(std::move(values));
    }
    if (grid.base_config.empty()) throw ConfigError(path + ": no 'config = FILE' line (the base config of every task)");
    if (grid.keys.empty()) throw ConfigError(path + ": no [grid] keys; a sweep needs at least one KEY = V1 V2 ...");
    constexpr std::size_t kMaxTasks = 100000;  // far above SLURM's usual MaxArraySize
    std::size_t tasks = 1;
    for (const auto& v : grid.values) {
        tasks *= v.size();
        if (tasks > kMaxTasks) throw ConfigError(path + ": the grid has more than 100000 tasks");
    }
    for (std::size_t i = 0; i < grid.size(); ++i) {
        try {
            run::make_run_config(config::parse_options(grid.train_args(i), run::run_options()));
        } catch (const ConfigError& error) {
            throw ConfigError(path + " task " + std::to_string(i) + " (" + describe(grid.task(i)) +
                              "): " + error.what());
        }
    }
    return grid;
}

int sweep_command(run::Session& session) {
    const std::vector<std::string>& args = session.args();
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::printf("%s", kSweepHelp);
        return args.empty() ? 2 : 0;
    }
    {
        const std::string& what = args[0];
        if (what != "show" && what != "size" && what != "args" && what != "collect") {
            throw ConfigError("sgnn sweep " + what +
                              ": unknown; choose show, size, args or collect (sgnn sweep --help)");
        }
        if (args.size() < 2 || args[1].rfind("--", 0) == 0)
            throw ConfigError("sgnn sweep " + what + " needs a sweep FILE");
        std::string task, runs;
        for (std::size_t i = 2; i < args.size(); ++i) {
            const bool has_value = i + 1 < args.size();
            if (args[i] == "--task" && has_value && what == "args") {
                task = args[++i];
            } else if (args[i] == "--runs" && has_value && what == "collect") {
                runs = args[++i];
            } else {
                throw ConfigError("sgnn sweep " + what + ": unexpected argument '" + args[i] + "' (sgnn sweep --help)");
            }
        }
        const SweepGrid grid = read_sweep_file(args[1]);
        if (what == "size") {
            std::printf("%zu\n", grid.size());
        } else if (what == "show") {
            std::printf("%s: %zu tasks over config %s (sbatch --array=0-%zu jobs/sweep.sbatch)\n", grid.path.c_str(),
                        grid.size(), grid.base_config.c_str(), grid.size() - 1);
            for (std::size_t i = 0; i < grid.size(); ++i)
                std::printf("  task %-4zu %s\n", i, describe(grid.task(i)).c_str());
        } else if (what == "args") {
            if (task.empty()) throw ConfigError("sgnn sweep args needs --task I");
            for (const auto& arg : grid.train_args(task_index(grid, task))) std::printf("%s\n", arg.c_str());
        } else {
            if (runs.empty())
                throw ConfigError("sgnn sweep collect needs --runs DIR (the folder holding task-0/, task-1/, ...)");
            collect(grid, runs);
        }
    }
    return 0;
}

}  // namespace sgnn::sweep
