#include "sgnn/run/run.hpp"

#include "sgnn/run/role.hpp"

#include "sgnn/checkpoint/files.hpp"
#include "sgnn/checkpoint/schema.hpp"
#include "sgnn/checkpoint/signals.hpp"
#include "sgnn/checkpoint/writer.hpp"
#include "sgnn/clock.hpp"
#include "sgnn/comm/backoff.hpp"
#include "sgnn/coord/coordinator.hpp"
#include "sgnn/coord/schedule.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/corpus_file.hpp"
#include "sgnn/io/directory_lock.hpp"
#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/sim/model_file.hpp"
#include "sgnn/stream/batch_source.hpp"
#include "sgnn/stream/corpus_source.hpp"
#include "sgnn/stream/simulator_worker.hpp"
#include "sgnn/train/options.hpp"
#include "sgnn/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <limits>
#include <memory>
#include <stdexcept>

namespace sgnn::run {
namespace {

// An experiment's sub-run directory from an earlier invocation of the same
// experiment: its known outputs go before the new run starts.
void remove_earlier_run(const std::string& dir, const std::vector<std::string>& earlier) {
    std::error_code error;
    for (const std::string& name : earlier) {
        if (name.rfind("checkpoints/", 0) == 0) {
            for (const std::string& path : checkpoint::list_checkpoints(checkpoint::checkpoint_directory(dir))) {
                std::filesystem::remove(path, error);
            }
        } else {
            std::filesystem::remove(dir + "/" + name, error);
        }
    }
}

std::string default_out_dir(const std::string& name) {
    const std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    std::string base = "runs/" + name + "-" + stamp;
    std::string candidate = base;
    for (int i = 2; std::filesystem::exists(candidate); ++i) candidate = base + "-" + std::to_string(i);
    return candidate;
}

// The output directory as every rank knows it, with the run's identity. Rank 0 holds
// the directory's lock for the whole run.
struct RunDirectory {
    std::string path;
    std::string run_id;
    std::unique_ptr<io::DirectoryLock> lock;  // rank 0 only
};

// The run's copies of the model files it uses (sim/model_file.hpp): what a resume,
// sgnn predict and sgnn bank read, whatever happens to the files afterwards. A resumed
// run reads its copies, and writes them back unchanged.
void copy_model_files(const sim::TaskConfig& task, const std::string& run_dir) {
    for (const std::string& model : sim::task_simulators(task)) {
        if (!sim::is_model_file(model)) continue;
        const std::string folder = sim::model_copies_directory(run_dir);
        io::make_directories(folder);
        io::write_file_atomically(folder + "/" + sim::model_file_copy_name(model), sim::model_file_text(model));
    }
}

// Rank 0 picks, creates and locks the output directory, and settles the run's identity:
// a fresh run refuses a directory that holds another run's outputs (unless the caller
// replaces them, as experiments do for their own sub-runs) and draws a new run_id; a
// resumed run keeps its checkpoint's. Every rank learns the result, or throws the same
// ConfigError.
RunDirectory prepare_run_directory(const RunConfig& config, const checkpoint::Contents* resume,
                                   bool replace_earlier_run, const comm::MpiSession& mpi) {
    RunDirectory run;
    std::string error;
    if (mpi.world_rank() == 0) {
        try {
            run.path = config.out.empty() ? default_out_dir(config.name) : config.out;
            io::make_directories(run.path);
            run.lock = std::make_unique<io::DirectoryLock>(run.path, "--out");
            const std::string recorded = checkpoint::run_id_of_directory(run.path);
            if (resume == nullptr) {
                const std::vector<std::string> earlier = checkpoint::earlier_run_outputs(run.path);
                // --resume auto restarts a job that stopped before its first checkpoint in
                // place; a finished run (summary.json) is never replaced that way.
                const bool unfinished = std::find(earlier.begin(), earlier.end(), "summary.json") == earlier.end();
                const bool restart_in_place = config.resume_auto && unfinished;
                if (!earlier.empty() && !replace_earlier_run && !restart_in_place) {
                    std::string list;
                    for (const std::string& name : earlier) list += (list.empty() ? "" : ", ") + name;
                    throw ConfigError("--out " + run.path + " holds another run's outputs (" + list +
                                      "); continue it with sgnn train --resume " + run.path +
                                      ", or choose another --out");
                }
                if (!earlier.empty()) remove_earlier_run(run.path, earlier);  // (auto: never a checkpoint here)
                run.run_id = checkpoint::new_run_id();
            } else {
                const auto it = resume->attributes.find("run_id");
                // A checkpoint of an older sgnn has no identity: the run gets one now.
                run.run_id =
                    it != resume->attributes.end() && !it->second.empty() ? it->second : checkpoint::new_run_id();
                if (!recorded.empty() && recorded != run.run_id) {
                    throw ConfigError("--out " + run.path + " belongs to another run (run_id " + recorded + ") than " +
                                      resume->path + " (run_id " + run.run_id +
                                      "); give the resumed run its own --out");
                }
            }
            if (recorded != run.run_id) checkpoint::record_run_id(run.path, run.run_id);
            copy_model_files(config.task, run.path);
        } catch (const std::exception& failure) {
            error = failure.what();  // another run's folder, or one that cannot be created or written
        }
    }
    error = comm::broadcast_text(MPI_COMM_WORLD, error);
    if (!error.empty()) throw ConfigError(error);
    run.path = comm::broadcast_text(MPI_COMM_WORLD, run.path);
    run.run_id = comm::broadcast_text(MPI_COMM_WORLD, run.run_id);
    return run;
}

// A simulator-only rank tells the coordinator once that it received SIGTERM or
// SIGUSR1; the coordinator turns that into "checkpoint, then stop".
class SignalForwarder final : public Role {
public:
    SignalForwarder(const stream::Communicators& comms, bool active) : comms_(comms), active_(active) {}
    bool poll() override {
        if (!active_ || sent_ || checkpoint::pending_stop_signal() == 0) return false;
        signal_ = checkpoint::pending_stop_signal();
        comm::check_mpi(MPI_Isend(&signal_, 1, MPI_INT32_T, stream::RankLayout::coordinator_rank(),
                                  comm::kTagStopSignal, comms_.control(), request_.data()),
                        "MPI_Isend(stop signal notice)");
        sent_ = true;
        return true;
    }
    // It never keeps the rank in the loop.
    bool finished() const override { return true; }
    // The notice is small and sent eagerly; if the coordinator finished before it
    // arrived, it is cancelled rather than waited for.
    void finish() {
        if (!sent_) return;
        if (!comm::test_all(request_, "MPI_Test(stop signal notice)")) {
            comm::cancel(request_[0], "MPI_Cancel(stop signal notice)");
        }
    }

private:
    const stream::Communicators& comms_;
    bool active_;
    bool sent_ = false;
    std::int32_t signal_ = 0;
    std::vector<MPI_Request> request_{MPI_REQUEST_NULL};
};

}  // namespace

std::string role_of_rank(const RunConfig& config, int world_rank, int world_size) {
    if (world_size == 1) return "single process";
    if (world_rank == 0) return "coordinator";
    if (world_rank <= config.trainers) return "trainer " + std::to_string(world_rank - 1);
    return "simulator";
}

namespace {

// Where every trainer's stream stands at the start: fresh, or as the checkpoint left
// it. A resume with another trainer count (--allow-reshard) cannot map the old
// trainers' batches onto the new ones, so it starts a fresh range of batch indices
// beyond every batch the old run touched.
struct StreamStart {
    stream::StreamConfig config;
    coord::ScheduleOrigin origin;
    std::vector<stream::StreamState> states;  // per trainer
    std::uint64_t first_batch = 0;            // the earliest batch any simulator makes
};

StreamStart stream_start(const RunConfig& config, const checkpoint::Contents* resume) {
    StreamStart start;
    start.config = config.stream;
    start.states.resize(static_cast<std::size_t>(config.trainers));
    if (resume == nullptr) return start;
    if (resume->trainers == config.trainers) {
        start.config.batch_origin = resume->batch_origin;
        start.origin = {resume->origin_step, resume->batch_origin};
        start.states = resume->streams;
    } else {
        start.config.batch_origin = resume->next_unused_batch();
        start.origin = {resume->step, start.config.batch_origin};
        // The run's counters carry over in trainer 0 (evaluations sum them over trainers).
        stream::SourceStats& total = start.states[0].stats;
        for (const stream::StreamState& old : resume->streams) {
            total.batches += old.stats.batches;
            total.samples += old.stats.samples;
            total.dropped += old.stats.dropped;
            total.wait_seconds += old.stats.wait_seconds;
        }
    }
    start.first_batch = std::numeric_limits<std::uint64_t>::max();
    for (int t = 0; t < config.trainers; ++t) {
        start.first_batch = std::min(start.first_batch,
                                     stream::global_batch_index(start.config.batch_origin, config.trainers, t,
                                                                start.states[static_cast<std::size_t>(t)].watermark));
    }
    return start;
}

// Problems a checkpoint can have that only show once the run is set up; found alike
// on every rank.
void check_resume(const RunConfig& config, const checkpoint::Contents& resume) {
    if (resume.trainers != config.trainers && !config.allow_reshard) {
        throw ConfigError("checkpoint " + resume.path + " was written by a run with " +
                          std::to_string(resume.trainers) + " trainers, this one has " +
                          std::to_string(config.trainers) +
                          ". The trainer count fixes which samples each step trains on, so resume with --trainers " +
                          std::to_string(resume.trainers) + ", or pass --allow-reshard to continue with " +
                          std::to_string(config.trainers) +
                          " (model and optimizer carry over; the run is no longer "
                          "bitwise reproducible)");
    }
    if (resume.step >= config.train.steps) {
        throw ConfigError("checkpoint " + resume.path + " is at step " + std::to_string(resume.step) +
                          ", but train.steps is " + std::to_string(config.train.steps) +
                          ": nothing left to train (raise --train.steps to continue)");
    }
}

// Rank 0 sets up the checkpoint folder: it must be writable before training starts,
// and temporaries of a killed write are removed.
void prepare_checkpoint_directory(const std::string& out_dir) {
    const std::string dir = checkpoint::checkpoint_directory(out_dir);
    io::make_directories(dir);
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
        if (entry.path().filename().string().find(".h5.tmp") != std::string::npos) {
            std::filesystem::remove(entry.path(), error);
        }
    }
    io::write_file_atomically(dir + "/.writable", "");
    std::filesystem::remove(dir + "/.writable", error);
}

// Every trainer's shard must hold a batch; checked on every rank from the corpus's
// counts, so that all ranks refuse alike before any of them talks.
void check_corpus_size(const RunConfig& config) {
    std::uint64_t valid = 0;
    try {
        valid = io::CorpusHeader(config.data, "sgnn-corpus", "write one with sgnn simulate")
                    .count("valid_samples", 0, std::uint64_t(1) << 50);
    } catch (const std::exception& error) {
        const std::string message = error.what();
        throw ConfigError("data = " + (message.rfind(config.data, 0) == 0 ? message : config.data + ": " + message) +
                          " (write a corpus with sgnn simulate)");
    }
    const auto per_trainer = valid / static_cast<std::uint64_t>(config.trainers);
    if (per_trainer < static_cast<std::uint64_t>(config.stream.batch_size)) {
        throw ConfigError("data = " + config.data + ": " + std::to_string(valid) + " valid samples make " +
                          std::to_string(per_trainer) + " per trainer, fewer than one batch (stream.batch_size = " +
                          std::to_string(config.stream.batch_size) +
                          "); simulate more, or use fewer trainers or "
                          "smaller batches");
    }
}

}  // namespace

RunResult run_training(const RunConfig& config, const comm::MpiSession& mpi, const RunOptions& options) {
    // Validation that needs the layout or the built objects. Every rank does the same
    // checks on the same inputs, so a ConfigError here is thrown on all ranks alike.
    const stream::RankLayout layout(mpi.world_size(), config.trainers);
    const std::unique_ptr<sim::Task> task = sim::make_task(config.task);
    train::TrainConfig train_config = config.train;
    train_config.model.input_channels = task->layout().n_channels;
    train::validate(train_config, task->layout());
    std::unique_ptr<checkpoint::Contents> resume;
    if (!config.resume.empty()) {
        resume = std::make_unique<checkpoint::Contents>(checkpoint::read(
            config.resume, config.stream.batch_size, task->layout().n_inputs, task->layout().n_targets()));
        check_resume(config, *resume);
    }
    const bool from_corpus = !config.data.empty();
    if (from_corpus && config.schedule.stages > 1) {
        throw ConfigError("curriculum.stages = " + std::to_string(config.schedule.stages) + ": a corpus (data = " +
                          config.data + ") was simulated under one prior; a curriculum needs live simulators");
    }
    if (from_corpus && !layout.single_process() && mpi.world_size() != config.trainers + 1) {
        throw ConfigError("data = " + config.data + ": training from a corpus needs no simulator ranks; launch " +
                          std::to_string(config.trainers + 1) + " ranks (a coordinator and " +
                          std::to_string(config.trainers) + " trainers), not " + std::to_string(mpi.world_size()));
    }
    if (from_corpus) check_corpus_size(config);
    const StreamStart start = stream_start(config, resume.get());
    const coord::PriorSchedule schedule(config.schedule, config.trainers, config.train.steps, start.origin);

    const int rank = mpi.world_rank();
    RunDirectory run_directory;
    if (options.write_outputs)
        run_directory = prepare_run_directory(config, resume.get(), options.replace_earlier_run, mpi);
    const std::string& out_dir = run_directory.path;
    if (rank == 0 && !out_dir.empty()) prepare_checkpoint_directory(out_dir);
    stream::Communicators comms(layout, rank);
    const bool coordinates = rank == stream::RankLayout::coordinator_rank();
    checkpoint::Writer checkpoints(comms.checkpointers(), int(coordinates) + int(layout.is_trainer(rank)),
                                   config.checkpoint_timeout);

    std::unique_ptr<coord::Coordinator> coordinator;
    if (coordinates) {
        coord::CoordinatorConfig cc;
        cc.run_name = config.name;
        cc.run_id = run_directory.run_id;
        cc.out_dir = out_dir;
        cc.effective_config = config.effective_ini;
        cc.total_steps = config.train.steps;
        cc.batch_size = config.stream.batch_size;
        cc.seed = config.seed;
        cc.deterministic = config.deterministic;
        cc.target_names = task->layout().target_names;
        cc.class_names = task->layout().class_names;
        cc.calibrated = config.train.model.head != "mean";
        cc.progress_interval = config.progress_interval;
        cc.quiet = options.quiet;
        cc.sgnn_version = SGNN_VERSION;
        cc.checkpoint_keep = config.checkpoint_keep;
        cc.checkpoint_minutes = config.checkpoint_minutes;
        cc.batch_origin = start.config.batch_origin;
        cc.origin_step = start.origin.step;
        cc.first_batch = start.first_batch;
        cc.resume = resume.get();
        cc.live_simulators = !from_corpus;
        coordinator = std::make_unique<coord::Coordinator>(comms, layout, schedule, cc, checkpoints);
    }
    std::unique_ptr<stream::SimulatorWorker> worker;
    if (layout.is_simulator(rank) && !from_corpus) {
        std::vector<stream::ResumePoint> resume_points;
        resume_points.reserve(static_cast<std::size_t>(config.trainers));
        for (int t = 0; t < config.trainers; ++t) {
            resume_points.push_back(
                start.states[static_cast<std::size_t>(t)].resume_point(start.config, config.trainers, t));
        }
        worker = std::make_unique<stream::SimulatorWorker>(comms, layout, *task, start.config, resume_points);
    }
    std::unique_ptr<stream::BatchSource> source;
    std::unique_ptr<train::Trainer> trainer;
    if (layout.is_trainer(rank)) {
        const int t = layout.trainer_index(rank);
        stream::StreamState state = start.states[static_cast<std::size_t>(t)];
        if (from_corpus) {
            source = std::make_unique<stream::CorpusBatchSource>(config.data, task->layout(), start.config, t,
                                                                 config.trainers, std::move(state));
        } else if (layout.single_process()) {
            source = std::make_unique<stream::InlineBatchSource>(
                *task, start.config, 0, 1, [&schedule](std::uint64_t batch) { return schedule.stage_for_batch(batch); },
                std::move(state));
        } else {
            source =
                std::make_unique<stream::StreamedBatchSource>(comms, layout, *task, start.config, std::move(state));
        }
        train::TrainConfig tc = train_config;
        tc.model_path = out_dir.empty() ? std::string() : out_dir + "/model.h5";
        tc.out_dir = out_dir;
        tc.checkpoint_every = config.checkpoint_every;
        trainer = std::make_unique<train::Trainer>(comms, layout, *task, tc, *source, checkpoints, resume.get());
    }

    // What this rank does: poll every role it plays until all are finished.
    SignalForwarder forward_signal(comms, !coordinator && !trainer);
    std::vector<std::unique_ptr<Role>> adapters;
    std::vector<Role*> roles = {&forward_signal};
    if (coordinator)
        roles.push_back(adapters.emplace_back(std::make_unique<RoleOf<coord::Coordinator>>(*coordinator)).get());
    if (worker)
        roles.push_back(adapters.emplace_back(std::make_unique<RoleOf<stream::SimulatorWorker>>(*worker)).get());
    if (trainer) roles.push_back(adapters.emplace_back(std::make_unique<RoleOf<train::Trainer>>(*trainer)).get());
    const auto started = std::chrono::steady_clock::now();
    poll_until_finished(roles, [&] {
        if (rank == config.debug_fail_rank && seconds_since(started) >= config.debug_fail_after) {
            throw std::runtime_error("fault injected on purpose (debug.fail_rank = " + std::to_string(rank) + ")");
        }
    });
    forward_signal.finish();
    RunResult result;
    if (coordinator) result.summary = coordinator->summary();
    // Every rank exits with the same status: a job script requeues on kExitRequeue.
    std::int32_t stopped = coordinator && coordinator->stopped_on_signal() ? 1 : 0;
    std::vector<MPI_Request> agreement(1);
    comm::check_mpi(MPI_Ibcast(&stopped, 1, MPI_INT32_T, 0, MPI_COMM_WORLD, agreement.data()),
                    "MPI_Ibcast(exit status)");
    comm::wait_all(agreement, "MPI_Test(exit status)");
    result.exit_code = stopped ? checkpoint::kExitRequeue : 0;
    return result;
}

void poll_until_finished(const std::vector<Role*>& roles, const std::function<void()>& before_each_round) {
    comm::Backoff backoff;
    for (;;) {
        const bool done = std::all_of(roles.begin(), roles.end(), [](const Role* role) { return role->finished(); });
        if (done) return;
        before_each_round();
        bool progressed = false;
        for (Role* role : roles) progressed |= role->poll();  // every role, every round
        if (progressed) {
            backoff.reset();
        } else {
            backoff.idle();
        }
    }
}

}  // namespace sgnn::run
