#include "sgnn/checkpoint/schema.hpp"

#include "sgnn/clock.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/sha256.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cmath>

namespace sgnn::checkpoint {
namespace schema {

std::string parameter(const std::string& name) { return std::string(kModelGroup) + "parameters/" + name; }

std::string optimizer_state(const std::string& name, const std::string& field) {
    return std::string(kModelGroup) + "optimizer/" + name + "/" + field;
}

std::string normalization(const std::string& field) { return std::string(kModelGroup) + "normalization/" + field; }

std::string stream_group(int trainer_index) { return "stream/trainer_" + std::to_string(trainer_index); }

}  // namespace schema

std::map<std::string, std::string> root_attributes(const RootAttributes& record) {
    return {
        {"format", kFormatName},
        {"format_version", std::to_string(kFormatVersion)},
        {schema::kRunIdAttribute, record.run_id},
        {"step", std::to_string(record.step)},
        {"trainers", std::to_string(record.trainers)},
        {"simulators", std::to_string(record.simulators)},
        {"seed", std::to_string(record.seed)},
        {"deterministic", record.deterministic ? "true" : "false"},
        {"batch_size", std::to_string(record.batch_size)},
        {"batch_origin", std::to_string(record.batch_origin)},
        {"origin_step", std::to_string(record.origin_step)},
        {"config_sha256", io::sha256_hex(record.config_ini)},
        {"sgnn_version", record.sgnn_version},
        {"created", utc_now()},
        {"rng",
         "Philox4x64-10 keyed by (seed, purpose); sample i of the training stream uses counter i, so a "
         "simulator resumes at stream/trainer_<t>/feeders[:, 5]"},
    };
}

namespace {

using Datasets = std::map<std::string, io::Dataset>;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
    throw ConfigError("checkpoint " + path + ": " + problem);
}

// The batch groups under `prefix` ("stream/trainer_0/buffered/"), each named once.
std::vector<std::string> buffered_batches(const Datasets& all, const std::string& prefix) {
    std::vector<std::string> groups;
    for (const auto& [name, dataset] : all) {
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string group = name.substr(0, name.find('/', prefix.size()));
        if (groups.empty() || groups.back() != group) groups.push_back(group);
    }
    return groups;
}

// A dataset of the file, or the error naming what is missing.
const io::Dataset& dataset_in(const Datasets& all, const std::string& path, const std::string& name) {
    const auto it = all.find(name);
    if (it == all.end()) fail(path, "missing dataset " + name);
    return it->second;
}

// The stream-position part of trainer `trainer_index`, as stream_state() wrote it.
stream::StreamState restore_stream_state(const Datasets& all, const std::string& path, int trainer_index,
                                         int batch_size, int n_inputs, int n_targets) {
    const auto read = [&](const std::string& name) -> const io::Dataset& { return dataset_in(all, path, name); };
    const std::string group = schema::stream_group(trainer_index);
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
            labels.size() != n || inputs.shape != std::vector<std::uint64_t>{n, static_cast<std::uint64_t>(n_inputs)} ||
            targets.shape != std::vector<std::uint64_t>{n, static_cast<std::uint64_t>(n_targets)}) {
            fail(path, b + " does not match this run's batch shape (" + std::to_string(batch_size) + " samples of " +
                           std::to_string(n_inputs) + " inputs and " + std::to_string(n_targets) + " targets)");
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
    return state;
}

}  // namespace

std::vector<io::Dataset> stream_state(int trainer_index, const stream::StreamState& state,
                                      const std::vector<int>& feeders, const stream::StreamConfig& config,
                                      int trainers) {
    const std::string group = schema::stream_group(trainer_index);
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

std::uint64_t Contents::next_unused_batch() const {
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

const io::Dataset& Contents::model_dataset(const std::string& name) const {
    const auto it = model.find(name);
    if (it == model.end()) fail(path, "missing dataset " + name);
    return it->second;
}

Contents read(const std::string& path, int batch_size, int n_inputs, int n_targets) {
    Contents c;
    c.path = path;
    try {
        const io::DatasetReader reader(path);
        if (!reader.has_attribute("format") || reader.attribute("format") != kFormatName) {
            fail(path, std::string("not an sgnn checkpoint (no format = ") + kFormatName + " attribute)");
        }
        const std::string version = reader.attribute("format_version");
        if (version != std::to_string(kFormatVersion) && version != "1") {
            fail(path, "format version " + printable(version) + ", but this sgnn reads versions 1 and " +
                           std::to_string(kFormatVersion));
        }
        // Version 2 also checksums its attributes (step, trainers, batch origin, ...).
        if (version != "1") reader.verify_attribute_checksum();
        // Every dataset is read once, its checksum verified, and then taken from here.
        const Datasets all = reader.read_all(version != "1");
        for (const char* name : schema::kRequiredAttributes) c.attributes[name] = reader.attribute(name);
        if (reader.has_attribute(schema::kRunIdAttribute)) {
            c.attributes[schema::kRunIdAttribute] = reader.attribute(schema::kRunIdAttribute);
        }
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
        c.config_ini = dataset_in(all, path, schema::kConfig).text();
        c.metrics_csv = dataset_in(all, path, schema::kMetricsCsv).text();
        c.elapsed_seconds = dataset_in(all, path, schema::kElapsedSeconds).as<double>().at(0);
        for (const auto& [name, dataset] : all) {
            if (name.rfind(schema::kModelGroup, 0) == 0) c.model[name] = dataset;
        }
        for (int t = 0; t < c.trainers; ++t) {
            c.streams.push_back(restore_stream_state(all, path, t, batch_size, n_inputs, n_targets));
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

}  // namespace sgnn::checkpoint
