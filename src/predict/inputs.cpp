#include "sgnn/predict/inputs.hpp"

#include "sgnn/error.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

namespace sgnn::predict {

InputShape InputShape::of(const sim::TaskConfig& task, const sim::SampleLayout& layout) {
    InputShape shape;
    shape.channels = layout.n_channels;
    shape.entries = layout.n_inputs / layout.n_channels;
    shape.shortest = shape.entries;
    shape.log1p = task.transform == "log1p";
    const auto has = [&](const char* step) {
        return std::find(task.observation.begin(), task.observation.end(), step) != task.observation.end();
    };
    shape.missing = has("missing");
    if (has("weekly")) shape.unit = "weeks";
    if (task.options.ode.output_interval != 1.0) shape.unit = "entries";
    if (has("truncate")) {
        const auto prior = sim::task_prior(task, sim::task_simulators(task).front(), "observed_days");
        shape.shortest = std::max(1, static_cast<int>(std::llround(prior.lower_bound())));
        shape.observed_prior = "prior.observed_days = " + prior.spec();
    }
    return shape;
}

std::vector<std::string> observation_files(const std::string& flag) {
    std::vector<std::string> files;
    for (const std::string& item : split_list(flag)) {
        std::error_code error;
        if (!std::filesystem::is_directory(item, error)) {
            files.push_back(item);
            continue;
        }
        std::vector<std::string> inside;
        for (const auto& entry : std::filesystem::directory_iterator(item)) {
            if (entry.is_regular_file() && entry.path().extension() == ".csv") inside.push_back(entry.path().string());
        }
        if (inside.empty()) throw ConfigError("--data " + item + ": a folder without any .csv file");
        std::sort(inside.begin(), inside.end());
        files.insert(files.end(), inside.begin(), inside.end());
    }
    return files;
}

std::vector<SeriesInFile> read_series(const std::vector<std::string>& files, int channels) {
    std::vector<SeriesInFile> all;
    std::map<std::string, std::string> seen;  // series name -> its file
    for (const std::string& file : files) {
        for (io::ObservedSeries& series : io::read_observed_series(file, channels)) {
            const auto [it, fresh] = seen.emplace(series.name, file);
            if (!fresh) {
                throw ConfigError("--data " + file + ": a series named '" + printable(series.name) + "' is also in " +
                                  it->second + "; series names must differ");
            }
            all.push_back({std::move(series), file});
        }
    }
    return all;
}

std::vector<float> network_inputs(const io::ObservedSeries& series, const InputShape& shape, const std::string& file) {
    const std::string what = "--data " + file + ": series '" + printable(series.name) + "' ";
    const std::string entry = shape.unit == "weeks" ? "week " : shape.unit == "days" ? "day " : "entry ";
    const auto count = [&](int n) {  // "1 day", "32 days"
        return std::to_string(n) + " " + (n == 1 ? entry.substr(0, entry.size() - 1) : shape.unit);
    };
    if (series.length > shape.entries) {
        throw ConfigError(what + "has " + count(series.length) + ", more than the network reads (" +
                          std::to_string(shape.entries) + ", its sim.days); give its first " +
                          std::to_string(shape.entries) +
                          ", or train a network with sim.days >= " + std::to_string(series.length));
    }
    if (series.length < shape.shortest) {
        if (shape.observed_prior.empty()) {
            throw ConfigError(what + "has " + count(series.length) + "; the network reads " + "exactly " +
                              std::to_string(shape.entries) + " (sim.days). Train it with obs.steps " +
                              "ending in truncate to read shorter series");
        }
        throw ConfigError(what + "has " + count(series.length) +
                          ", fewer than the shortest series the network was trained on (" +
                          std::to_string(shape.shortest) + ", " + shape.observed_prior + ")");
    }
    std::vector<float> inputs;
    inputs.reserve(static_cast<std::size_t>(shape.entries * shape.channels));
    for (int c = 0; c < shape.channels; ++c) {
        for (int d = 0; d < shape.entries; ++d) {
            if (d >= series.length) {
                inputs.push_back(-1.0f);  // past its end: missing, as the truncate step marks it
                continue;
            }
            const double v = series.values[static_cast<std::size_t>(c) * static_cast<std::size_t>(series.length) +
                                           static_cast<std::size_t>(d)];
            const std::string where = what + entry + std::to_string(d + 1) +
                                      (series.first_date.empty() ? "" : " (from " + series.first_date + ")");
            if (std::isnan(v)) {
                if (!shape.missing) {
                    throw ConfigError(where +
                                      " is missing; the network was trained without missing values "
                                      "(obs.steps has no 'missing')");
                }
                inputs.push_back(-1.0f);
                continue;
            }
            if (shape.log1p && v < 0.0) {
                throw ConfigError(where + " is " + format_number(v) +
                                  ", negative; the network reads counts through log(1 + x)");
            }
            inputs.push_back(static_cast<float>(shape.log1p ? std::log1p(v) : v));
        }
    }
    return inputs;
}

}  // namespace sgnn::predict
