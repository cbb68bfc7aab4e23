#include "sgnn/bank/memory_bank.hpp"

#include "sgnn/comm/mpi.hpp"
#include "sgnn/corpus/corpus_writer.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/corpus_file.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/text.hpp"
#include "sgnn/train/predictor.hpp"

#include <algorithm>
#include <limits>

namespace sgnn::bank {

std::uint64_t write_memory_bank(const run::RunConfig& config, const std::string& run_dir, std::uint64_t samples,
                                const std::string& out) {
    const int rank = comm::rank_in(MPI_COMM_WORLD), ranks = comm::size_of(MPI_COMM_WORLD);
    const train::Predictor network = [&] {
        try {
            return train::Predictor(run_dir + "/model.h5");
        } catch (const std::exception& error) {
            throw ConfigError("--run " + run_dir + ": " + error.what());
        }
    }();
    const auto task = sim::make_task(config.task);
    const sim::SampleLayout& layout = task->layout();
    if (layout.n_inputs != network.n_inputs()) {
        throw ConfigError("--run " + run_dir + ": model.h5 takes " + std::to_string(network.n_inputs()) +
                          " inputs but config.ini makes " + std::to_string(layout.n_inputs));
    }
    const std::vector<float> probe(static_cast<std::size_t>(layout.n_inputs), 0.0f);
    const auto width = static_cast<std::uint64_t>(network.embed(probe.data(), 1).size());
    const auto n_p = static_cast<std::uint64_t>(task->parameter_names().size());
    const auto n_t = static_cast<std::uint64_t>(layout.n_targets());
    io::CorpusWriter writer(MPI_COMM_WORLD, out, samples,
                            {{"embeddings", io::ElementType::f32, width},
                             {"parameters", io::ElementType::f64, n_p},
                             {"targets", io::ElementType::f32, n_t},
                             {"labels", io::ElementType::i64, 0},
                             {"indices", io::ElementType::u64, 0},
                             {"valid", io::ElementType::u8, 0}});
    const std::uint64_t chunk = 4096;
    const corpus::RowShare mine = corpus::row_share(samples, rank, ranks);
    const auto n_in = static_cast<std::size_t>(layout.n_inputs);
    for (std::uint64_t round = 0, rounds = corpus::write_rounds(samples, ranks, chunk); round < rounds; ++round) {
        const std::uint64_t offset = std::min(mine.count, round * chunk);
        const std::uint64_t count = std::min(chunk, mine.count - offset);
        const std::uint64_t first = mine.first + offset;
        const sim::IndexedSamples rows = corpus::generate_chunk_or_stop(
            *task, config.seed, sim::Purpose::bank, first, count, config.task.threads, "the simulation of " + out);
        // Embed the valid rows only; a dropped sample's embedding stays NaN.
        std::vector<float> valid_inputs;
        for (std::size_t j = 0; j < count; ++j) {
            if (rows.valid[j])
                valid_inputs.insert(valid_inputs.end(), rows.inputs.begin() + static_cast<long>(j * n_in),
                                    rows.inputs.begin() + static_cast<long>((j + 1) * n_in));
        }
        const std::vector<float> embedded = network.embed(valid_inputs.data(), rows.result.valid);
        std::vector<float> embeddings(std::max<std::uint64_t>(1, count * width),
                                      std::numeric_limits<float>::quiet_NaN());
        for (std::size_t j = 0, k = 0; j < count; ++j) {
            if (!rows.valid[j]) continue;
            std::copy_n(embedded.begin() + static_cast<long>(k++ * width), width,
                        embeddings.begin() + static_cast<long>(j * width));
        }
        std::vector<const void*> columns = corpus::column_pointers(rows);
        // The bank's columns: embeddings in place of inputs, then parameters, targets, labels, indices, valid.
        writer.write_rows(first, count,
                          {embeddings.data(), columns[2], columns[1], columns[3], columns[4], columns[5]});
    }
    writer.commit({{"format", "sgnn-bank"},
                   {"format_version", "2"},
                   {"samples", std::to_string(samples)},
                   {"embedding_width", std::to_string(width)},
                   {"parameter_names", join_list(task->parameter_names())},
                   {"target_names", join_list(layout.target_names)},
                   {"class_names", join_list(layout.class_names)},
                   {"seed", std::to_string(config.seed)},
                   {"purpose", "bank"},
                   {"model_sha256", ""}},
                  {{"config", config.effective_ini}});
    return width;
}

}  // namespace sgnn::bank
