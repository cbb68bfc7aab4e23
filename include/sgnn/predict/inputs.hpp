// Observed series as the network's inputs: what the training run's observation model
// would have made of them. A series shorter than the network's window is padded with
// missing entries when the network learned to read partial series (the truncate
// observation step); a longer one, or a shorter one the network never saw, is refused.
#pragma once

#include "sgnn/io/observation_csv.hpp"
#include "sgnn/sim/task.hpp"

#include <string>
#include <vector>

namespace sgnn::predict {

// What a network's inputs look like, from its run's task.
struct InputShape {
    int entries = 0;             // per channel: sim.days, or weeks after the weekly step
    int channels = 1;            // series per sample
    int shortest = 0;            // the fewest entries it reads (truncate: prior.observed_days' lowest)
    bool log1p = true;           // obs.transform
    bool missing = false;        // trained with the missing step: an entry may be missing inside
    std::string observed_prior;  // "prior.observed_days = ..." (truncate), for messages
    std::string unit = "days";   // what an entry is: days, weeks (weekly step) or entries (ODE outputs)
    static InputShape of(const sim::TaskConfig& task, const sim::SampleLayout& layout);
};

// The files a --data flag names (comma-separated): each file, and every *.csv of each
// folder, sorted. Throws ConfigError for a folder without one.
std::vector<std::string> observation_files(const std::string& flag);

// A series and the file it was read from.
struct SeriesInFile {
    io::ObservedSeries series;
    std::string file;
};

// Every series of `files`, in order, for a model with `channels` series per sample.
// Names must differ across the files: a repeated one is a ConfigError naming both.
std::vector<SeriesInFile> read_series(const std::vector<std::string>& files, int channels);

// The network inputs of `series` (read from `file`), channels one after the other.
// Throws ConfigError naming the file, the series and what to change.
std::vector<float> network_inputs(const io::ObservedSeries& series, const InputShape& shape, const std::string& file);

}  // namespace sgnn::predict
