#include "sgnn/corpus/simulate_command.hpp"

#include "sgnn/checkpoint/signals.hpp"
#include "sgnn/config/options.hpp"
#include "sgnn/corpus/corpus_writer.hpp"
#include "sgnn/error.hpp"
#include "sgnn/run/options.hpp"
#include "sgnn/stop.hpp"
#include "sgnn/text.hpp"

#include <cstdio>

namespace sgnn::corpus {
namespace {

const char* kSimulateHelp = R"TXT(sgnn simulate - a synthetic corpus in one HDF5 file

Simulates samples 0..N-1 of the training stream (the samples `sgnn train` would draw
with the same seed and config) on every MPI rank in parallel and writes them into one
HDF5 file with collective hyperslab writes. Train from it with `sgnn train --data`,
for example to try many architectures on one corpus.

Sample runs:
  build/sgnn simulate --config configs/quickstart.cfg --samples 100000 --out corpus.h5
  mpiexec -n 4 build/sgnn simulate --config configs/quickstart.cfg --samples 1e6 --out corpus.h5
  build/sgnn train --data corpus.h5 --model.type cnn --train.steps 5000

Layout (docs/file-formats.md), one row per sample, in sample-index order:
  inputs      float32 (N, n_inputs)    what the network sees (after obs.transform)
  targets     float32 (N, n_targets)   the sim.targets (NaN where a mechanism lacks one)
  parameters  float64 (N, n_params)    every prior draw (NaN where a mechanism lacks one)
  labels      int64 (N)                mechanism index (-1 for a dropped sample)
  indices     uint64 (N)               sample index
  valid       uint8 (N)                0 for a sample the simulator dropped (NaN inputs)
  config      string                   the effective configuration; attributes name columns
  model_file:NAME  string              each model file the configuration names, as it was
                                       (training from the corpus reads this text)

  --samples N        samples to simulate (required)
  --out FILE         the corpus file (default corpus.h5), replaced atomically
  --chunk ROWS       rows per rank and collective write (default 4096)
Every column carries SHA-256 checksums per 4096 rows, verified when it is read. On
SIGTERM or SIGUSR1 every rank stops within about a second, the temporary file is
removed and the exit status is 75.
Every `sgnn train` option that describes the simulation is accepted (sim.*, obs.*,
prior.*, ode.*, seed, sim.threads, sim.max_dropped_fraction; see sgnn train --help).
)TXT";

// The flags of `sgnn simulate`, beside the run's options that describe the simulation.
std::vector<config::OptionSpec> simulate_flags() {
    using Type = config::OptionSpec::Type;
    return {
        {"samples", Type::integer, "", "samples to simulate (required)", 1, 1e12},
        {"out", Type::text, "corpus.h5", "the corpus file, replaced atomically"},
        {"chunk", Type::integer, "4096", "rows per rank and collective write", 1, 1e12},
    };
}

}  // namespace

int simulate_command(run::Session& session) {
    std::vector<std::string> args = session.args();
    const config::CommandFlags flags(args, simulate_flags());
    const std::string out = flags.text("out");
    const auto chunk = static_cast<std::uint64_t>(flags.integer("chunk"));
    const config::ParsedOptions parsed = config::parse_options(args, run::run_options());
    if (parsed.help) {
        std::printf("%s", kSimulateHelp);
        return 0;
    }
    if (!flags.given("samples")) throw ConfigError("--samples: say how many samples to simulate (--samples N)");
    const auto samples = static_cast<std::uint64_t>(flags.integer("samples"));
    const run::RunConfig config = run::make_run_config(parsed);
    require_output_file(out, "--out");

    const comm::MpiSession& mpi = session.start_mpi();
    session.set_role("simulate");
    checkpoint::install_stop_signal_handlers();
    const StopScope stop_abandons_the_corpus;  // the temporary is removed, nothing is half-written
    write_corpus(config, samples, out, chunk, mpi.world_rank() == 0);
    return 0;
}

}  // namespace sgnn::corpus
