#include "sgnn/cli/run.hpp"

#include "sgnn/clock.hpp"
#include "sgnn/coord/coordinator.hpp"
#include "sgnn/coord/schedule.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/stream/backoff.hpp"
#include "sgnn/stream/batch_source.hpp"
#include "sgnn/stream/simulator_worker.hpp"
#include "sgnn/train/trainer.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace sgnn::cli {
namespace {

std::string default_out_dir(const std::string& name) {
    const std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    std::string base = "runs/" + name + "-" + stamp;
    std::string candidate = base;
    for (int i = 2; std::filesystem::exists(candidate); ++i) candidate = base + "-" + std::to_string(i);
    return candidate;
}

// Rank 0 picks and creates the output directory; everyone learns its name.
std::string agree_on_out_dir(const RunConfig& config, const stream::MpiSession& mpi) {
    std::string dir;
    if (mpi.world_rank() == 0) {
        dir = config.out.empty() ? default_out_dir(config.name) : config.out;
        io::make_directories(dir);
    }
    int length = static_cast<int>(dir.size());
    stream::check_mpi(MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast(output directory)");
    dir.resize(static_cast<std::size_t>(length));
    stream::check_mpi(MPI_Bcast(dir.data(), length, MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast(output directory)");
    return dir;
}

}  // namespace

std::string role_of_rank(const RunConfig& config, int world_rank, int world_size) {
    if (world_size == 1) return "single process";
    if (world_rank == 0) return "coordinator";
    if (world_rank <= config.trainers) return "trainer " + std::to_string(world_rank - 1);
    return "simulator";
}

io::Json run_training(const RunConfig& config, const stream::MpiSession& mpi, const RunOptions& options) {
    // Validation that needs the layout or the built objects. Every rank does the same
    // checks on the same inputs, so a ConfigError here is thrown on all ranks alike.
    const stream::RankLayout layout(mpi.world_size(), config.trainers);
    const std::unique_ptr<sim::Task> task = sim::make_task(config.task);
    const coord::PriorSchedule schedule(config.schedule, config.trainers, config.train.steps);
    train::TrainConfig train_config = config.train;
    train_config.model.input_channels = task->layout().n_channels;
    train::validate(train_config, task->layout().n_inputs, task->layout().n_targets(), task->layout().n_classes());

    const int rank = mpi.world_rank();
    const std::string out_dir = options.write_outputs ? agree_on_out_dir(config, mpi) : std::string();
    stream::Communicators comms(layout, rank);

    std::unique_ptr<coord::Coordinator> coordinator;
    if (rank == stream::RankLayout::coordinator_rank()) {
        coord::CoordinatorConfig cc;
        cc.run_name = config.name;
        cc.out_dir = out_dir;
        cc.effective_config = config.effective_ini;
        cc.total_steps = config.train.steps;
        cc.batch_size = config.stream.batch_size;
        cc.seed = config.seed;
        cc.deterministic = config.deterministic;
        cc.target_names = task->layout().target_names;
        cc.class_names = task->layout().class_names;
        cc.progress_interval = config.progress_interval;
        cc.quiet = options.quiet;
        coordinator = std::make_unique<coord::Coordinator>(comms, layout, schedule, cc);
    }
    std::unique_ptr<stream::SimulatorWorker> worker;
    if (layout.is_simulator(rank)) {
        worker = std::make_unique<stream::SimulatorWorker>(comms, layout, *task, config.stream);
    }
    std::unique_ptr<stream::BatchSource> source;
    std::unique_ptr<train::Trainer> trainer;
    if (layout.is_trainer(rank)) {
        if (layout.single_process()) {
            source = std::make_unique<stream::InlineBatchSource>(
                *task, config.stream, 0, 1, [&schedule](std::uint64_t batch) { return schedule.stage_for_batch(batch); });
        } else {
            source = std::make_unique<stream::StreamedBatchSource>(comms, layout, *task, config.stream);
        }
        train::TrainConfig tc = train_config;
        tc.model_path = out_dir.empty() ? std::string() : out_dir + "/model.h5";
        trainer = std::make_unique<train::Trainer>(comms, layout, *task, tc, *source);
    }

    const auto started = std::chrono::steady_clock::now();
    stream::Backoff backoff;
    for (;;) {
        const bool done = (!coordinator || coordinator->finished()) && (!worker || worker->finished()) &&
                          (!trainer || trainer->finished());
        if (done) break;
        if (rank == config.debug_fail_rank &&
            seconds_since(started) >= config.debug_fail_after) {
            throw std::runtime_error("fault injected on purpose (debug.fail_rank = " + std::to_string(rank) + ")");
        }
        bool progressed = false;
        if (coordinator) progressed |= coordinator->poll();
        if (worker) progressed |= worker->poll();
        if (trainer) progressed |= trainer->poll();
        if (progressed) {
            backoff.reset();
        } else {
            backoff.idle();
        }
    }
    return coordinator ? coordinator->summary() : io::Json();
}

}  // namespace sgnn::cli
