#include "sgnn/coord/checkpoint.hpp"

#include "sgnn/error.hpp"
#include "sgnn/io/json_file.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace sgnn::coord {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPrefix = "step-";
constexpr const char* kSuffix = ".h5";

// The step of "step-00001234.h5", or -1 for any other name.
long long step_of(const std::string& filename) {
    const std::string prefix = kPrefix, suffix = kSuffix;
    if (filename.size() <= prefix.size() + suffix.size() || filename.rfind(prefix, 0) != 0 ||
        filename.compare(filename.size() - suffix.size(), suffix.size(), suffix) != 0) {
        return -1;
    }
    const std::string digits = filename.substr(prefix.size(), filename.size() - prefix.size() - suffix.size());
    if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoll(digits);
}

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
    throw ConfigError("checkpoint " + path + ": " + problem);
}

std::string trainer_group(int trainer_index) { return "stream/trainer_" + std::to_string(trainer_index); }

// The batch groups under `prefix` ("stream/trainer_0/buffered/"), each named once.
std::vector<std::string> buffered_batches(const std::map<std::string, io::Dataset>& all, const std::string& prefix) {
    std::vector<std::string> groups;
    for (const auto& [name, dataset] : all) {
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string group = name.substr(0, name.find('/', prefix.size()));
        if (groups.empty() || groups.back() != group) groups.push_back(group);
    }
    return groups;
}

}  // namespace

std::string checkpoint_directory(const std::string& out_dir) { return out_dir + "/checkpoints"; }

std::string checkpoint_path(const std::string& out_dir, std::int64_t step) {
    char name[64];
    std::snprintf(name, sizeof name, "%s%08lld%s", kPrefix, static_cast<long long>(step), kSuffix);
    return checkpoint_directory(out_dir) + "/" + name;
}

std::vector<std::string> list_checkpoints(const std::string& directory) {
    std::vector<std::pair<long long, std::string>> found;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(directory, error)) {
        const long long step = step_of(entry.path().filename().string());
        if (step >= 0 && entry.is_regular_file()) found.emplace_back(step, entry.path().string());
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> paths;
    paths.reserve(found.size());
    for (auto& [step, path] : found) paths.push_back(std::move(path));
    return paths;
}

std::vector<std::string> list_checkpoints(const std::string& directory, const std::string& run_id) {
    std::vector<std::string> own;
    for (std::string& path : list_checkpoints(directory)) {
        if (run_id_of_checkpoint(path) == run_id) own.push_back(std::move(path));
    }
    return own;
}

void prune_checkpoints(const std::string& directory, int keep, const std::string& run_id) {
    const std::vector<std::string> own = list_checkpoints(directory, run_id);
    for (std::size_t i = 0; i + static_cast<std::size_t>(keep) < own.size(); ++i) std::remove(own[i].c_str());
}

std::string new_run_id() {
    std::random_device entropy;
    char text[33];
    std::snprintf(text, sizeof text, "%08x%08x%08x%08x", entropy(), entropy(), entropy(), entropy());
    return text;
}

std::string run_record_path(const std::string& out_dir) { return out_dir + "/run.json"; }

std::string run_id_of_directory(const std::string& out_dir) {
    std::ifstream in(run_record_path(out_dir));
    if (!in) return "";
    try {
        const io::Json record = io::Json::parse(in);
        return record.at("run_id").get<std::string>();
    } catch (const std::exception&) {
        throw ConfigError(run_record_path(out_dir) +
                          ": not a run record (sgnn writes it when a run starts); "
                          "choose another --out, or remove the file if the directory holds no run");
    }
}

void record_run_id(const std::string& out_dir, const std::string& run_id) {
    io::write_json_file(run_record_path(out_dir),
                        {{"run_id", run_id},
                         {"about",
                          "the identity of the training run in this directory; its checkpoints carry the "
                          "same run_id, and sgnn rotates and resumes only those"}});
}

std::string run_id_of_checkpoint(const std::string& path) {
    try {
        const io::DatasetReader reader(path);
        return reader.has_attribute("run_id") ? reader.attribute("run_id") : "";
    } catch (const std::exception&) {
        return "";  // damaged or foreign: never this run's
    }
}

std::vector<std::string> earlier_run_outputs(const std::string& out_dir) {
    std::vector<std::string> found;
    std::error_code error;
    for (const char* name : {"run.json", "summary.json", "model.h5", "metrics.csv", "config.ini"}) {
        if (fs::exists(fs::symlink_status(out_dir + "/" + name, error))) found.push_back(name);
    }
    const std::vector<std::string> checkpoints = list_checkpoints(checkpoint_directory(out_dir));
    if (!checkpoints.empty()) found.push_back("checkpoints/" + fs::path(checkpoints.back()).filename().string());
    return found;
}

std::string resolve_resume_path(const std::string& what) {
    std::error_code error;
    if (fs::is_regular_file(what, error)) return what;
    if (!fs::is_directory(what, error)) {
        throw ConfigError("--resume " + what +
                          ": no such file or directory (give a checkpoint file or a run directory)");
    }
    // A run directory: its own run's newest checkpoint (a directory without run.json,
    // from an older sgnn, or a bare folder of checkpoints: the newest of all).
    const std::string run_id = run_id_of_directory(what);
    for (const std::string& directory : {checkpoint_directory(what), what}) {
        const std::vector<std::string> all = list_checkpoints(directory);
        if (all.empty()) continue;
        if (run_id.empty()) return all.back();
        const std::vector<std::string> own = list_checkpoints(directory, run_id);
        if (!own.empty()) return own.back();
        throw ConfigError("--resume " + what + ": the checkpoints in " + directory + " (newest " +
                          fs::path(all.back()).filename().string() + ") belong to another run than " +
                          run_record_path(what) + " names (run_id " + run_id +
                          "); to continue one of them anyway, "
                          "name its file: --resume " +
                          all.back());
    }
    throw ConfigError("--resume " + what + ": no checkpoint (step-*.h5) in " + what + " or " +
                      checkpoint_directory(what));
}

std::string run_directory_of(const std::string& checkpoint_file) {
    const fs::path folder = fs::path(checkpoint_file).parent_path();
    if (folder.filename() == "checkpoints") return folder.parent_path().empty() ? "." : folder.parent_path().string();
    return folder.empty() ? "." : folder.string();
}

std::vector<io::Dataset> stream_state_datasets(int trainer_index, const stream::StreamState& state,
                                               const std::vector<int>& feeders, const stream::StreamConfig& config,
                                               int trainers) {
    const std::string group = trainer_group(trainer_index);
    std::vector<io::Dataset> datasets;
    datasets.push_back(io::make_dataset<std::uint64_t>(group + "/watermark", {state.watermark}));
    datasets.push_back(io::make_dataset<std::uint64_t>(group + "/consumed_above", state.consumed_above));
    const stream::SourceStats& s = state.stats;
    datasets.push_back(io::make_dataset<double>(
        group + "/stats",
        {s.wait_seconds, static_cast<double>(s.batches), static_cast<double>(s.samples), static_cast<double>(s.dropped),
         static_cast<double>(s.schedule_version), static_cast<double>(s.max_buffered_batches)}));
    // Where each feeder resumes: its next local and global batch, and the first sample
    // index (the Philox counter) of that batch.
    const stream::ResumePoint resume = state.resume_point(config, trainers, trainer_index);
    std::vector<std::uint64_t> table;
    const int count = static_cast<int>(feeders.size());
    for (int slot = 0; slot < count; ++slot) {
        const std::uint64_t local = resume.next_needed(0, slot, count);
        const std::uint64_t global = stream::global_batch_index(config.batch_origin, trainers, trainer_index, local);
        for (std::uint64_t v : {static_cast<std::uint64_t>(feeders[static_cast<std::size_t>(slot)]),
                                static_cast<std::uint64_t>(slot), static_cast<std::uint64_t>(count), local, global,
                                global * static_cast<std::uint64_t>(config.batch_size)}) {
            table.push_back(v);
        }
    }
    datasets.push_back(io::make_dataset(group + "/feeders", table, {static_cast<std::uint64_t>(count), 6}));
    for (const stream::BatchBuffer& batch : state.buffered) {
        const stream::BatchHeader& h = batch.header();
        const std::string b = group + "/buffered/batch_" + std::to_string(h.batch_index);
        const std::uint64_t n = h.sample_count;
        const auto n_in = static_cast<std::uint64_t>(batch.n_inputs()),
                   n_t = static_cast<std::uint64_t>(batch.n_targets());
        datasets.push_back(io::make_dataset<std::uint64_t>(
            b + "/header", {h.batch_index, h.schedule_version, h.sample_count, h.dropped_count}));
        datasets.push_back(
            io::make_dataset(b + "/indices", std::vector<std::uint64_t>(batch.indices(), batch.indices() + n)));
        datasets.push_back(
            io::make_dataset(b + "/inputs", std::vector<float>(batch.inputs(), batch.inputs() + n * n_in), {n, n_in}));
        datasets.push_back(
            io::make_dataset(b + "/targets", std::vector<float>(batch.targets(), batch.targets() + n * n_t), {n, n_t}));
        datasets.push_back(io::make_dataset(b + "/labels", std::vector<float>(batch.labels(), batch.labels() + n)));
    }
    return datasets;
}

std::uint64_t CheckpointContents::next_unused_batch() const {
    std::uint64_t next = batch_origin;
    for (int t = 0; t < static_cast<int>(streams.size()); ++t) {
        const stream::StreamState& s = streams[static_cast<std::size_t>(t)];
        std::uint64_t highest = s.watermark;  // one past the highest consumed or buffered local batch
        for (std::uint64_t k : s.consumed_above) highest = std::max(highest, k + 1);
        for (const stream::BatchBuffer& b : s.buffered) {
            highest = std::max(highest, (b.header().batch_index - batch_origin - static_cast<std::uint64_t>(t)) /
                                                static_cast<std::uint64_t>(trainers) +
                                            1);
        }
        next = std::max(next, stream::global_batch_index(batch_origin, trainers, 0, highest));
    }
    return next;
}

CheckpointContents read_checkpoint(const std::string& path, int batch_size, int n_inputs, int n_targets) {
    CheckpointContents c;
    c.path = path;
    try {
        const io::DatasetReader reader(path);
        if (!reader.has_attribute("format") || reader.attribute("format") != "sgnn-checkpoint") {
            fail(path, "not an sgnn checkpoint (no format = sgnn-checkpoint attribute)");
        }
        const std::string version = reader.attribute("format_version");
        if (version != std::to_string(kCheckpointFormatVersion) && version != "1") {
            fail(path, "format version " + printable(version) + ", but this sgnn reads versions 1 and " +
                           std::to_string(kCheckpointFormatVersion));
        }
        // Version 2 also checksums its attributes (step, trainers, batch origin, ...).
        if (version != "1") reader.verify_attribute_checksum();
        // Every dataset is read once, its checksum verified, and then taken from here.
        const std::map<std::string, io::Dataset> all = reader.read_all(version != "1");
        const auto read = [&](const std::string& name) -> const io::Dataset& {
            const auto it = all.find(name);
            if (it == all.end()) fail(path, "missing dataset " + name);
            return it->second;
        };
        for (const char* name : {"format", "format_version", "step", "trainers", "batch_origin", "origin_step",
                                 "batch_size", "config_sha256", "seed", "deterministic", "sgnn_version", "created"}) {
            c.attributes[name] = reader.attribute(name);
        }
        if (reader.has_attribute("run_id")) c.attributes["run_id"] = reader.attribute("run_id");
        const auto whole = [&](const char* name, double max) {
            double value = 0.0;
            if (!parse_decimal(c.attributes[name], value) || value < 0 || value > max || std::floor(value) != value) {
                fail(path, std::string("attribute ") + name + " = '" + printable(c.attributes[name]) +
                               "' is not a whole number in [0, " + format_number(max) + "]");
            }
            return value;
        };
        c.step = static_cast<std::int64_t>(whole("step", 1e15));
        c.trainers = static_cast<int>(whole("trainers", 1e6));
        c.batch_origin = static_cast<std::uint64_t>(whole("batch_origin", 9e15));
        c.origin_step = static_cast<std::int64_t>(whole("origin_step", 1e15));
        if (static_cast<int>(whole("batch_size", 1e9)) != batch_size) {
            fail(path, "batches of " + c.attributes["batch_size"] + " samples, but stream.batch_size is " +
                           std::to_string(batch_size));
        }
        c.config_ini = read("config").text();
        c.metrics_csv = read("coordinator/metrics_csv").text();
        c.elapsed_seconds = read("train/elapsed_seconds").as<double>().at(0);
        for (const auto& [name, dataset] : all) {
            if (name.rfind("model/", 0) == 0) c.model[name] = dataset;
        }
        for (int t = 0; t < c.trainers; ++t) {
            const std::string group = trainer_group(t);
            stream::StreamState state;
            state.watermark = read(group + "/watermark").as<std::uint64_t>().at(0);
            state.consumed_above = read(group + "/consumed_above").as<std::uint64_t>();
            const std::vector<double> s = read(group + "/stats").as<double>();
            if (s.size() != 6) fail(path, group + "/stats has " + std::to_string(s.size()) + " values, expected 6");
            state.stats.wait_seconds = s[0];
            state.stats.batches = static_cast<std::uint64_t>(s[1]);
            state.stats.samples = static_cast<std::uint64_t>(s[2]);
            state.stats.dropped = static_cast<std::uint64_t>(s[3]);
            state.stats.schedule_version = static_cast<std::uint32_t>(s[4]);
            state.stats.max_buffered_batches = static_cast<int>(s[5]);
            for (const std::string& b : buffered_batches(all, group + "/buffered/")) {
                const std::vector<std::uint64_t> header = read(b + "/header").as<std::uint64_t>();
                const io::Dataset& inputs = read(b + "/inputs");
                const io::Dataset& targets = read(b + "/targets");
                const std::vector<std::uint64_t> indices = read(b + "/indices").as<std::uint64_t>();
                const std::vector<float> labels = read(b + "/labels").as<float>();
                const std::uint64_t n = header.size() == 4 ? header[2] : 0;
                using io::ElementType;
                if (inputs.type != ElementType::f32 || targets.type != ElementType::f32 ||
                    read(b + "/labels").type != ElementType::f32 || read(b + "/indices").type != ElementType::u64 ||
                    read(b + "/header").type != ElementType::u64) {
                    fail(path, b + " holds datasets of other types than sgnn writes");
                }
                if (header.size() != 4 || n > static_cast<std::uint64_t>(batch_size) || indices.size() != n ||
                    labels.size() != n ||
                    inputs.shape != std::vector<std::uint64_t>{n, static_cast<std::uint64_t>(n_inputs)} ||
                    targets.shape != std::vector<std::uint64_t>{n, static_cast<std::uint64_t>(n_targets)}) {
                    fail(path, b + " does not match this run's batch shape (" + std::to_string(batch_size) +
                                   " samples of " + std::to_string(n_inputs) + " inputs and " +
                                   std::to_string(n_targets) + " targets)");
                }
                stream::BatchBuffer batch(batch_size, n_inputs, n_targets);
                batch.header() = stream::BatchHeader{header[0],
                                                     static_cast<std::uint32_t>(header[1]),
                                                     static_cast<std::uint32_t>(header[2]),
                                                     static_cast<std::uint32_t>(header[3]),
                                                     0,
                                                     0};
                std::copy(indices.begin(), indices.end(), batch.indices());
                const std::vector<float> in = inputs.as<float>(), tg = targets.as<float>();
                std::copy(in.begin(), in.end(), batch.inputs());
                std::copy(tg.begin(), tg.end(), batch.targets());
                std::copy(labels.begin(), labels.end(), batch.labels());
                batch.seal();
                state.buffered.push_back(std::move(batch));
            }
            c.streams.push_back(std::move(state));
        }
    } catch (const ConfigError&) {
        throw;
    } catch (const std::exception& error) {
        const std::string message = error.what();
        // io errors already name the file
        throw ConfigError(message.rfind(path, 0) == 0 ? "checkpoint " + message
                                                      : "checkpoint " + path + ": " + message);
    }
    return c;
}

}  // namespace sgnn::coord
