#include "sgnn/bench/bench_corpus.hpp"

#include "sgnn/clock.hpp"
#include "sgnn/config/options.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/corpus_file.hpp"
#include "sgnn/io/json_file.hpp"
#include "sgnn/run/fatal.hpp"
#include "sgnn/stream/communicators.hpp"
#include "sgnn/text.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <tuple>

namespace sgnn::bench {
namespace {

const char* kHelp = R"TXT(sgnn bench corpus - corpus write and read speed (MB/s)

Writes a corpus-shaped HDF5 file of --rows rows (inputs: --width float32 values per
row, plus targets, labels, indices and a valid flag) from every rank with collective
hyperslab writes, as `sgnn simulate` does, then reads it back the way `sgnn train
--data` does (each rank its contiguous shard). The reference, in the same run: every
rank writes and reads the same bytes in a plain file of its own (fwrite/fread). Both
include fsync, so the file system, not the page cache, is measured on writes.

Sample runs:
  build/sgnn bench corpus --rows 200000 --json
  mpiexec -n 4 build/sgnn bench corpus --rows 200000 --dir /scratch/$USER --json

  --rows N      rows in the file (default 200000)
  --width N     float32 inputs per row (default 60)
  --dir DIR     where the files go (default .); they are removed afterwards
  --json        print one JSON object
)TXT";

// The flags of `sgnn bench corpus` (the help text above).
std::vector<config::OptionSpec> bench_corpus_flags() {
    using Type = config::OptionSpec::Type;
    return {
        {"rows", Type::integer, "200000", "rows", 1, 1e10},
        {"width", Type::integer, "60", "float32 inputs per row", 1, 1e6},
        {"dir", Type::text, ".", "where the files go"},
        {"json", Type::boolean, "false", "print one JSON object"},
        {"help", Type::boolean, "false", "this text"},
    };
}

double max_over_ranks(double value) { return comm::max_over_ranks(MPI_COMM_WORLD, value, "MPI_Allreduce(time)"); }

}  // namespace

int bench_corpus_command(run::Session& session) {
    std::vector<std::string> args = session.args();
    const config::CommandFlags flags(args, bench_corpus_flags());
    if (flags.boolean("help")) {
        std::printf("%s", kHelp);
        return 0;
    }
    if (!args.empty()) {
        throw ConfigError("sgnn bench corpus: unknown option '" + printable(args[0]) + "' (sgnn bench corpus --help)");
    }
    const auto rows = static_cast<std::uint64_t>(flags.integer("rows"));
    const auto width = static_cast<std::uint64_t>(flags.integer("width"));
    const std::string dir = flags.text("dir");
    const bool json = flags.boolean("json");

    const comm::MpiSession& mpi = session.start_mpi();
    session.set_role("bench corpus");
    const int rank = mpi.world_rank(), ranks = mpi.world_size();
    const std::string path = dir + "/sgnn-bench-corpus.h5";
    std::string own;
    {
        const std::uint64_t lo = rows * static_cast<std::uint64_t>(rank) / static_cast<std::uint64_t>(ranks);
        const std::uint64_t hi = rows * static_cast<std::uint64_t>(rank + 1) / static_cast<std::uint64_t>(ranks);
        const std::uint64_t mine = hi - lo, targets = 3;
        std::vector<float> inputs(mine * width), target_values(mine * targets);
        for (std::size_t i = 0; i < inputs.size(); ++i)
            inputs[i] = static_cast<float>((i * 2654435761u) % 1000) * 1e-3f;
        std::vector<std::int64_t> labels(mine, 0);
        std::vector<std::uint64_t> indices(mine);
        for (std::uint64_t i = 0; i < mine; ++i) indices[i] = lo + i;
        std::vector<std::uint8_t> valid(mine, 1);
        const double bytes = static_cast<double>(rows) * (4.0 * static_cast<double>(width + targets) + 8 + 8 + 1);

        // Collective HDF5 write, one call per column as sgnn simulate makes per chunk.
        comm::check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
        auto start = std::chrono::steady_clock::now();
        {
            io::CorpusWriter writer(MPI_COMM_WORLD, path, rows,
                                    {{"inputs", io::ElementType::f32, width},
                                     {"targets", io::ElementType::f32, targets},
                                     {"labels", io::ElementType::i64, 0},
                                     {"indices", io::ElementType::u64, 0},
                                     {"valid", io::ElementType::u8, 0}});
            writer.write_rows(lo, mine,
                              {inputs.data(), target_values.data(), labels.data(), indices.data(), valid.data()});
            writer.commit({{"format", "sgnn-bench"}}, {});
        }
        if (rank == 0) io::fsync_file(path);
        const double hdf5_write = max_over_ranks(seconds_since(start));

        comm::check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
        start = std::chrono::steady_clock::now();
        double checksum = 0.0;
        // As a trainer reads its shard: every block verified against its checksum.
        using io::ElementType;
        for (const auto& [column, type, columns] :
             {std::tuple<const char*, ElementType, std::uint64_t>{"inputs", ElementType::f32, width},
              {"targets", ElementType::f32, targets},
              {"labels", ElementType::i64, 0},
              {"indices", ElementType::u64, 0},
              {"valid", ElementType::u8, 0}}) {
            checksum += static_cast<double>(io::read_rows(path, column, type, columns, lo, mine).bytes.size());
        }
        const double hdf5_read = max_over_ranks(seconds_since(start));

        comm::check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
        start = std::chrono::steady_clock::now();
        {
            // A fresh file of this rank's own, created exclusively (no planted link is followed).
            own = io::create_temporary_beside(dir + "/sgnn-bench-posix-" + std::to_string(rank) + ".bin");
            // O_NOFOLLOW: the file just created, never a link swapped in since.
            const int fd = ::open(own.c_str(), O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
            std::FILE* f = fd < 0 ? nullptr : ::fdopen(fd, "wb");
            if (f == nullptr) throw std::runtime_error("cannot write " + own);
            std::fwrite(inputs.data(), sizeof(float), inputs.size(), f);
            std::fwrite(target_values.data(), sizeof(float), target_values.size(), f);
            std::fwrite(labels.data(), sizeof(std::int64_t), labels.size(), f);
            std::fwrite(indices.data(), sizeof(std::uint64_t), indices.size(), f);
            std::fwrite(valid.data(), 1, valid.size(), f);
            std::fflush(f);
            fsync(fileno(f));
            std::fclose(f);
        }
        const double posix_write = max_over_ranks(seconds_since(start));
        comm::check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
        start = std::chrono::steady_clock::now();
        {
            std::vector<char> back(static_cast<std::size_t>(std::filesystem::file_size(own)));
            std::FILE* f = std::fopen(own.c_str(), "rb");
            checksum += static_cast<double>(std::fread(back.data(), 1, back.size(), f));
            std::fclose(f);
        }
        const double posix_read = max_over_ranks(seconds_since(start));
        std::remove(own.c_str());
        comm::check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
        if (rank == 0) std::remove(path.c_str());

        if (rank == 0) {
            const auto mbs = [&](double seconds) { return bytes / 1e6 / std::max(1e-9, seconds); };
            const io::Json result = {
                {"benchmark", "corpus"},
                {"ranks", ranks},
                {"rows", rows},
                {"megabytes", bytes / 1e6},
                {"hdf5_write_MBps", mbs(hdf5_write)},
                {"hdf5_read_MBps", mbs(hdf5_read)},
                {"reference", {{"posix_write_MBps", mbs(posix_write)}, {"posix_read_MBps", mbs(posix_read)}}},
                {"write_ratio", posix_write / hdf5_write},
                {"read_ratio", posix_read / hdf5_read},
            };
            if (json) {
                std::printf("%s\n", result.dump().c_str());
            } else {
                std::printf("corpus I/O, %d rank(s), %.1f MB:\n", ranks, bytes / 1e6);
                std::printf("  HDF5 collective write %8.0f MB/s   (POSIX, a file per rank: %8.0f MB/s)\n",
                            mbs(hdf5_write), mbs(posix_write));
                std::printf("  HDF5 shard read       %8.0f MB/s   (POSIX, a file per rank: %8.0f MB/s)\n",
                            mbs(hdf5_read), mbs(posix_read));
            }
            std::fflush(stdout);
        }
    }
    return 0;
}

}  // namespace sgnn::bench
