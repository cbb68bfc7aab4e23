#include "sgnn/corpus/corpus_writer.hpp"

#include "sgnn/checkpoint/signals.hpp"
#include "sgnn/clock.hpp"
#include "sgnn/config/options.hpp"
#include "sgnn/coord/progress.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/corpus_file.hpp"
#include "sgnn/io/sha256.hpp"
#include "sgnn/run/fatal.hpp"
#include "sgnn/run/options.hpp"
#include "sgnn/sim/model_file.hpp"
#include "sgnn/sim/ode_solver.hpp"
#include "sgnn/stop.hpp"
#include "sgnn/stream/communicators.hpp"
#include "sgnn/stream/simulator_worker.hpp"
#include "sgnn/text.hpp"
#include "sgnn/watchdog.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <thread>

namespace sgnn::corpus {

RowShare row_share(std::uint64_t rows, int rank, int ranks) {
    const std::uint64_t lo = rows * static_cast<std::uint64_t>(rank) / static_cast<std::uint64_t>(ranks);
    const std::uint64_t hi = rows * static_cast<std::uint64_t>(rank + 1) / static_cast<std::uint64_t>(ranks);
    return {lo, hi - lo};
}

std::uint64_t write_rounds(std::uint64_t rows, int ranks, std::uint64_t chunk) {
    std::uint64_t rounds = 0;
    for (int r = 0; r < ranks; ++r) rounds = std::max(rounds, (row_share(rows, r, ranks).count + chunk - 1) / chunk);
    return rounds;
}

std::vector<const void*> column_pointers(const sim::IndexedSamples& rows) {
    // A rank with no rows this round still joins the collective write, with a
    // buffer HDF5 never reads (an empty vector's data() may be null).
    static const double unused = 0.0;
    const auto at = [](const auto& v) -> const void* {
        return v.empty() ? static_cast<const void*>(&unused) : v.data();
    };
    return {at(rows.inputs), at(rows.targets), at(rows.parameters), at(rows.labels), at(rows.indices), at(rows.valid)};
}

void require_output_file(const std::string& path, const std::string& option) {
    try {
        io::require_replaceable(path);
    } catch (const std::exception& error) {
        throw ConfigError(option + " " + printable(path) + ": " + error.what());
    }
}

sim::IndexedSamples generate_chunk_or_stop(const sim::Task& task, std::uint64_t seed, sim::Purpose purpose,
                                           std::uint64_t first, std::uint64_t count, int threads,
                                           const std::string& during) {
    sim::IndexedSamples rows;
    int stop = 0;
    try {
        rows = sim::generate_indexed_samples(task, seed, purpose, first, static_cast<int>(count), threads);
    } catch (const StopRequested& abandoned) {
        stop = abandoned.signal_number();
    }
    if (stop == 0) stop = stop_signal();
    comm::check_mpi(MPI_Allreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD),
                    "MPI_Allreduce(stop signal)");
    if (stop != 0) throw StopRequested(stop, during);
    return rows;
}

CorpusStats write_corpus(const run::RunConfig& config, std::uint64_t samples, const std::string& out,
                         std::uint64_t chunk, bool show_progress) {
    const int rank = comm::rank_in(MPI_COMM_WORLD), ranks = comm::size_of(MPI_COMM_WORLD);
    const std::unique_ptr<sim::Task> task = sim::make_task(config.task);
    const sim::SampleLayout& layout = task->layout();
    const std::vector<std::string>& parameter_names = task->parameter_names();
    const auto n_in = static_cast<std::uint64_t>(layout.n_inputs), n_t = static_cast<std::uint64_t>(layout.n_targets());
    const auto n_p = static_cast<std::uint64_t>(parameter_names.size());
    io::CorpusWriter writer(MPI_COMM_WORLD, out, samples,
                            {{"inputs", io::ElementType::f32, n_in},
                             {"targets", io::ElementType::f32, n_t},
                             {"parameters", io::ElementType::f64, n_p},
                             {"labels", io::ElementType::i64, 0},
                             {"indices", io::ElementType::u64, 0},
                             {"valid", io::ElementType::u8, 0}});
    const RowShare mine = row_share(samples, rank, ranks);
    const std::uint64_t rounds = write_rounds(samples, ranks, chunk);

    stream::DropMonitor drops(*task, config.stream);
    std::uint64_t dropped = 0;
    const auto started = std::chrono::steady_clock::now();
    double last_print = 0.0;
    for (std::uint64_t round = 0; round < rounds; ++round) {
        const std::uint64_t offset = std::min(mine.count, round * chunk);
        const std::uint64_t count = std::min(chunk, mine.count - offset);
        const std::uint64_t first = mine.first + offset;
        const sim::IndexedSamples rows = generate_chunk_or_stop(*task, config.seed, sim::Purpose::train, first, count,
                                                                config.task.threads, "the simulation of " + out);
        if (count > 0) {
            drops.record(rows.result, 1.0);
            dropped += static_cast<std::uint64_t>(rows.result.dropped);
        }
        {
            const Watchdog watchdog(config.checkpoint_timeout, "a collective write of " + out, "checkpoint.timeout");
            writer.write_rows(first, count, column_pointers(rows));
        }
        // Collective writes keep the ranks in step, so every share's progress is known.
        std::uint64_t done = 0;
        for (int r = 0; r < ranks; ++r) done += std::min(row_share(samples, r, ranks).count, (round + 1) * chunk);
        const double elapsed = seconds_since(started);
        if (show_progress && (elapsed - last_print >= config.progress_interval || round + 1 == rounds)) {
            last_print = elapsed;
            const double rate = static_cast<double>(done) / std::max(1e-9, elapsed);
            std::printf("[sgnn] simulate %s/%s %3.0f%% | %s samples/s | ETA %s\n", coord::format_count(done).c_str(),
                        coord::format_count(samples).c_str(), 100.0 * done / samples, coord::format_count(rate).c_str(),
                        coord::format_duration(static_cast<double>(samples - done) / std::max(1e-9, rate)).c_str());
            std::fflush(stdout);
        }
    }
    std::uint64_t total_dropped = dropped;
    comm::check_mpi(MPI_Allreduce(MPI_IN_PLACE, &total_dropped, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD),
                    "MPI_Allreduce(dropped samples)");
    const double io_seconds = comm::max_over_ranks(MPI_COMM_WORLD, writer.write_seconds(), "MPI_Allreduce(write time)");
    const double bytes = comm::sum_over_ranks(MPI_COMM_WORLD, writer.bytes_written(), "MPI_Allreduce(bytes written)");
    // The configuration, and the text of each model file it names (sim/model_file.hpp):
    // training from the corpus reads those, not the files as they may be by then.
    std::map<std::string, std::string> texts = {{"config", config.effective_ini}};
    for (const std::string& model : sim::task_simulators(config.task)) {
        if (sim::is_model_file(model))
            texts[sim::model_file_dataset(sim::model_file_copy_name(model))] = sim::model_file_text(model);
    }
    writer.commit({{"format", "sgnn-corpus"},
                   {"format_version", "2"},
                   {"samples", std::to_string(samples)},
                   {"valid_samples", std::to_string(samples - total_dropped)},
                   {"dropped_samples", std::to_string(total_dropped)},
                   {"seed", std::to_string(config.seed)},
                   {"purpose", "train"},
                   {"first_index", "0"},
                   {"n_inputs", std::to_string(n_in)},
                   {"input_channels", std::to_string(layout.n_channels)},
                   {"target_names", join_list(layout.target_names)},
                   {"parameter_names", join_list(parameter_names)},
                   {"class_names", join_list(layout.class_names)},
                   {"config_sha256", io::sha256_hex(config.effective_ini)},
                   {"sgnn_version", SGNN_VERSION},
                   {"created", utc_now()},
                   {"ranks", std::to_string(ranks)}},
                  texts);
    if (show_progress) {
        const double seconds = seconds_since(started);
        std::printf(
            "[sgnn] wrote %s: %s samples (%s dropped) in %s, %s samples/s on %d rank(s); %.1f MB written "
            "at %.0f MB/s\n",
            out.c_str(), coord::format_count(samples).c_str(), coord::format_count(total_dropped).c_str(),
            coord::format_duration(seconds).c_str(), coord::format_count(samples / seconds).c_str(), ranks, bytes / 1e6,
            bytes / 1e6 / std::max(1e-9, io_seconds));
        std::fflush(stdout);
    }
    return {samples, total_dropped, bytes, io_seconds};
}

}  // namespace sgnn::corpus
