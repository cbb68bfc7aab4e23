#include "sgnn/stream/corpus_source.hpp"

#include "sgnn/clock.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/corpus_file.hpp"
#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/sim/random.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

namespace sgnn::stream {

CorpusBatchSource::CorpusBatchSource(const std::string& path, const sim::SampleLayout& layout,
                                     const StreamConfig& config, int trainer_index, int trainers, StreamState resume)
    : BatchSource(config, trainer_index, trainers, std::move(resume)),
      n_inputs_(layout.n_inputs),
      n_targets_(layout.n_targets()),
      buffer_(config.batch_size, layout.n_inputs, layout.n_targets()) {
    const auto fail = [&](const std::string& problem) { throw ConfigError("data = " + path + ": " + problem); };
    std::uint64_t rows = 0;
    try {
        const io::CorpusHeader header(path, "sgnn-corpus", "write one with sgnn simulate");
        if (header.text("format_version") != "2") {
            fail("format_version " + printable(header.text("format_version")) +
                 ", this sgnn reads version 2; simulate the corpus again with this sgnn");
        }
        rows = header.count("samples", 1, std::uint64_t(1) << 50);
        if (header.count("n_inputs", 1, std::uint64_t(1) << 32) != static_cast<std::uint64_t>(n_inputs_)) {
            fail("samples of " + header.text("n_inputs") + " inputs, this run's network takes " +
                 std::to_string(n_inputs_));
        }
        const std::uint64_t lo =
            rows * static_cast<std::uint64_t>(trainer_index) / static_cast<std::uint64_t>(trainers);
        const std::uint64_t hi =
            rows * static_cast<std::uint64_t>(trainer_index + 1) / static_cast<std::uint64_t>(trainers);
        const auto n_in = static_cast<std::uint64_t>(n_inputs_), n_t = static_cast<std::uint64_t>(n_targets_);
        using io::ElementType;
        // Every column is checked for its type, width, row count and checksums as it is read.
        const std::vector<float> in = io::read_rows(path, "inputs", ElementType::f32, n_in, lo, hi - lo).as<float>();
        const std::vector<float> tg = io::read_rows(path, "targets", ElementType::f32, n_t, lo, hi - lo).as<float>();
        const std::vector<std::uint8_t> valid =
            io::read_rows(path, "valid", ElementType::u8, 0, lo, hi - lo).as<std::uint8_t>();
        const std::vector<std::int64_t> labels =
            io::read_rows(path, "labels", ElementType::i64, 0, lo, hi - lo).as<std::int64_t>();
        const std::vector<std::uint64_t> indices =
            io::read_rows(path, "indices", ElementType::u64, 0, lo, hi - lo).as<std::uint64_t>();
        const auto classes = static_cast<std::int64_t>(layout.n_classes());
        for (std::size_t r = 0; r < valid.size(); ++r) {
            if (!valid[r]) continue;  // a sample the simulator dropped
            const auto row_in = in.begin() + static_cast<long>(r * n_in);
            if (!std::all_of(row_in, row_in + static_cast<long>(n_in), [](float x) { return std::isfinite(x); })) {
                fail("row " + std::to_string(lo + r) + " is marked valid but its inputs are not finite numbers");
            }
            const bool label_ok = classes == 0 ? labels[r] == 0 : labels[r] >= 0 && labels[r] < classes;
            if (!label_ok) {
                fail("row " + std::to_string(lo + r) + " has label " + std::to_string(labels[r]) + ", this run has " +
                     std::to_string(classes) + " mechanism class(es)");
            }
            inputs_.insert(inputs_.end(), row_in, row_in + static_cast<long>(n_in));
            targets_.insert(targets_.end(), tg.begin() + static_cast<long>(r * n_t),
                            tg.begin() + static_cast<long>((r + 1) * n_t));
            labels_.push_back(static_cast<float>(labels[r]));
            indices_.push_back(indices[r]);
        }
    } catch (const ConfigError&) {
        throw;
    } catch (const std::exception& error) {
        const std::string message = error.what();
        throw ConfigError(message.rfind(path, 0) == 0 ? "data = " + message : "data = " + path + ": " + message);
    }
    batches_per_epoch_ = shard_rows() / static_cast<std::uint64_t>(config.batch_size);
    if (batches_per_epoch_ == 0) {
        // Only this trainer knows (dropped samples fell unevenly): a fatal error, not a
        // configuration error that every rank would find alike.
        throw std::runtime_error("data = " + path + ": trainer " + std::to_string(trainer_index) + "'s shard holds " +
                                 std::to_string(shard_rows()) + " valid samples of " + std::to_string(rows) +
                                 ", fewer than one batch of stream.batch_size = " + std::to_string(config.batch_size) +
                                 "; simulate more samples or use fewer trainers");
    }
}

void CorpusBatchSource::shuffle(std::uint64_t epoch) {
    order_.resize(labels_.size());
    std::iota(order_.begin(), order_.end(), 0u);
    sim::SampleStream rng(config_.seed, sim::Purpose::shuffle,
                          epoch * static_cast<std::uint64_t>(trainers_) + static_cast<std::uint64_t>(trainer_index_));
    // Fisher-Yates; an index below i + 1 from the top 64 bits of a 128-bit product.
    for (std::size_t i = order_.size(); i > 1; --i) {
        const auto j = static_cast<std::size_t>((static_cast<unsigned __int128>(rng.next_u64()) * i) >> 64);
        std::swap(order_[i - 1], order_[j]);
    }
    epoch_ = epoch;
}

const BatchBuffer& CorpusBatchSource::acquire_new(std::uint64_t) {
    const auto start = std::chrono::steady_clock::now();
    const std::uint64_t local = resume_.next_needed(next_local_);
    next_local_ = local + 1;
    const std::uint64_t epoch = local / batches_per_epoch_, position = local % batches_per_epoch_;
    if (epoch != epoch_) shuffle(epoch);
    const auto batch = static_cast<std::size_t>(config_.batch_size);
    const auto n_in = static_cast<std::size_t>(n_inputs_), n_t = static_cast<std::size_t>(n_targets_);
    for (std::size_t j = 0; j < batch; ++j) {
        const std::size_t row = order_[static_cast<std::size_t>(position) * batch + j];
        std::copy_n(inputs_.begin() + static_cast<long>(row * n_in), n_in, buffer_.inputs() + j * n_in);
        std::copy_n(targets_.begin() + static_cast<long>(row * n_t), n_t, buffer_.targets() + j * n_t);
        buffer_.labels()[j] = labels_[row];
        buffer_.indices()[j] = indices_[row];
    }
    BatchHeader& header = buffer_.header();
    header.batch_index = global_batch_index(config_.batch_origin, trainers_, trainer_index_, local);
    header.schedule_version = 0;
    header.sample_count = static_cast<std::uint32_t>(batch);
    header.dropped_count = 0;
    header.flags = 0;
    buffer_.seal();
    stats_.wait_seconds += seconds_since(start);
    stats_.max_buffered_batches = 1;
    return buffer_;
}

}  // namespace sgnn::stream
