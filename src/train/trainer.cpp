// The trainer role: one training step per poll, the reports to the coordinator, the
// checkpoint agreement among trainers, and the two endings (a stop after a checkpoint,
// or the final evaluation and model.h5). The replica itself is Learner
// (train/learner.hpp); standardization is Normalization, held-out metrics
// HeldOutEvaluation, model.h5 export_model().
#include "sgnn/train/trainer.hpp"

#include "evaluation.hpp"
#include "learner.hpp"
#include "model_export.hpp"
#include "normalization.hpp"
#include "sgnn/checkpoint/files.hpp"
#include "sgnn/checkpoint/signals.hpp"
#include "sgnn/clock.hpp"
#include "sgnn/comm/protocol.hpp"
#include "sgnn/error.hpp"
#include "sgnn/stop.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <stdexcept>
#include <thread>

namespace sgnn::train {
namespace schema = checkpoint::schema;
namespace {

LossSpec loss_spec(const sim::SampleLayout& layout, const TrainConfig& config) {
    LossSpec spec;
    spec.n_targets = layout.n_targets();
    spec.n_classes = layout.n_classes();
    spec.density = config.model.head != "mean";
    spec.class_weight = config.class_weight;
    return spec;
}

}  // namespace

struct Trainer::Impl {
    const stream::Communicators& comms;
    const stream::RankLayout& layout;
    const sim::Task& task;
    TrainConfig config;
    stream::BatchSource& source;
    checkpoint::Writer& checkpoints;
    int trainer_index;
    int trainers;
    torch::Device device;
    Normalization norm;
    std::unique_ptr<HeldOutEvaluation> evaluation;
    std::unique_ptr<Learner> learner;

    // The training clock: a checkpoint part (clock_state()).
    std::int64_t step = 0;
    std::chrono::steady_clock::time_point started;

    // Reports to the coordinator (trainer 0 sends them).
    double last_report = 0.0;
    double loss_sum = 0.0;
    std::int64_t loss_count = 0;
    double last_train_loss = 0.0;
    std::uint32_t reported_version = 0;
    comm::TrainerReport last_eval{};
    std::deque<comm::TrainerReport> outbox;  // deque: stable addresses while sends are in flight
    std::vector<MPI_Request> sends;

    // Checkpoint requests from the coordinator (time-based, or a signal it received).
    comm::CheckpointRequest incoming_request{};
    MPI_Request request_receive = MPI_REQUEST_NULL;
    comm::CheckpointRequest pending_request{};  // the newest one not yet served
    std::int32_t served_request = 0;            // id of the last request served

    bool closed = false;
    bool stopped = false;

    Impl(const stream::Communicators& c, const stream::RankLayout& l, const sim::Task& t, const TrainConfig& cfg,
         stream::BatchSource& s, checkpoint::Writer& w, const checkpoint::Contents* resume)
        : comms(c),
          layout(l),
          task(t),
          config(cfg),
          source(s),
          checkpoints(w),
          trainer_index(l.trainer_index(c.world_rank())),
          trainers(l.trainers()),
          device(cfg.device == "cuda" ? torch::kCUDA : torch::kCPU) {
        torch::set_num_threads(config.threads);
        const sim::SampleLayout& sample = task.layout();
        {
            // Nothing can be checkpointed before step 1, so a stop abandons these sets.
            const StopScope stop_abandons_setup;
            TargetTransforms transforms = target_transforms(config.model, sample);
            norm = resume != nullptr
                       ? Normalization::restore(*resume, sample.n_targets(), std::move(transforms))
                       : Normalization::compute(task, config.seed, config.norm_samples, std::move(transforms));
            evaluation = std::make_unique<HeldOutEvaluation>(task, config, trainer_index, trainers, norm, device);
        }
        learner = std::make_unique<Learner>(config.model, config.optimizer, loss_spec(sample, config), sample.n_inputs,
                                            comms.trainers(), device, config.seed);
        double elapsed = 0.0;
        if (resume != nullptr) {
            try {
                learner->restore(resume->model);
            } catch (const std::runtime_error& error) {
                throw ConfigError("checkpoint " + resume->path + ": " + error.what());
            }
            step = resume->step;
            elapsed = resume->elapsed_seconds;
            reported_version = source.stats().schedule_version;
        }
        started = std::chrono::steady_clock::now() - std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                         std::chrono::duration<double>(elapsed));
        post_request_receive();
    }

    // ---- One step -------------------------------------------------------------------

    void train_one_step() {
        const stream::BatchBuffer& batch = source.acquire();
        const std::int64_t rows = batch.header().sample_count;
        if (rows > 0) {
            torch::Tensor x = norm.standardize_inputs(batch.inputs(), rows, task.layout().n_inputs, device);
            if (step + 1 == config.debug_poison_step) x = x * std::numeric_limits<float>::quiet_NaN();
            const torch::Tensor y = norm.standardize_targets(batch.targets(), rows, device);
            const torch::Tensor labels =
                torch::from_blob(const_cast<float*>(batch.labels()), {rows}, torch::kFloat).to(device);
            const double lr = learning_rate_at(config.optimizer, step, config.steps);
            const double loss = learner->step(x, y, labels, lr, config.batch_size);
            if (!std::isfinite(loss)) stop_on_non_finite("the training loss is " + format_number(loss));
            loss_sum += loss;
            ++loss_count;
        }
        source.release();
        ++step;
        if (config.debug_step_delay_ms > 0) {
            std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(config.debug_step_delay_ms));
        }

        const double now = seconds_since(started);
        const bool evaluation_due = step % config.eval_every == 0 || step == config.steps;
        // Trainer 0 also reports the moment it enters a new prior stage: the coordinator
        // publishes the next stage only then, and simulators must never wait for a
        // report that a time interval would delay.
        const bool new_stage = source.stats().schedule_version != reported_version;
        reported_version = source.stats().schedule_version;
        const bool report_due = new_stage || now - last_report >= config.report_interval;
        if (evaluation_due || report_due) {
            last_train_loss = loss_count > 0 ? loss_sum / static_cast<double>(loss_count) : 0.0;
            loss_sum = 0.0;
            loss_count = 0;
            last_report = now;
        }
        if (evaluation_due) {
            require_finite_parameters();
            last_eval = evaluate(comm::ReportKind::evaluation);
            if (step < config.steps) send_report(last_eval);
        } else if (report_due) {
            send_report(make_report(comm::ReportKind::progress));
        }
        retire_reports(false);
        checkpoint_if_due();
    }

    // Training cannot recover from a NaN or an infinity, and a model made of them must
    // never be written as if it were fine: the job stops naming the step and the causes.
    [[noreturn]] void stop_on_non_finite(const std::string& what) const {
        throw std::runtime_error(
            "step " + std::to_string(step + 1) + ": " + what +
            "; training stopped and no model.h5 was written. Likely causes: inputs or targets that are not finite "
            "(a corpus with NaN in rows marked valid, a simulator or prior that yields inf), or a learning rate too "
            "high for this network (train.lr = " +
            format_number(config.optimizer.learning_rate) + ")" +
            (config.model.head == "mean"
                 ? std::string()
                 : ". With model.head = " + config.model.head +
                       " the negative log-density can overflow when posteriors are much narrower than the prior: "
                       "lower train.lr, keep train.grad_clip on, or try the other density head"));
    }

    void require_finite_parameters() const {
        const std::string bad = learner->first_non_finite_parameter();
        if (!bad.empty()) stop_on_non_finite("parameter " + bad + " holds a NaN or an infinity");
    }

    // ---- Reports --------------------------------------------------------------------

    comm::TrainerReport make_report(comm::ReportKind kind) const {
        comm::TrainerReport report{};
        report.kind = kind;
        report.n_targets = task.layout().n_targets();
        report.n_classes = task.layout().n_classes();
        report.step = step;
        report.elapsed_seconds = seconds_since(started);
        report.samples = static_cast<double>(source.stats().samples) * trainers;  // exact after evaluate()
        report.train_loss = last_train_loss;
        report.learning_rate = learning_rate_at(config.optimizer, std::max<std::int64_t>(0, step - 1), config.steps);
        report.wait_fraction = report.elapsed_seconds > 0 ? source.stats().wait_seconds / report.elapsed_seconds : 0.0;
        report.dropped_samples = static_cast<double>(source.stats().dropped) * trainers;
        report.schedule_version = source.stats().schedule_version;
        report.max_buffered_batches = static_cast<std::uint32_t>(source.stats().max_buffered_batches);
        return report;
    }

    // Held-out metrics (all trainers take part) and exact run-wide counters, in one
    // reduction: the evaluation's sums, then samples, dropped samples, wait fraction.
    comm::TrainerReport evaluate(comm::ReportKind kind) {
        std::vector<double> totals = evaluation->local_sums(*learner);
        const std::size_t tail = totals.size();
        const double elapsed = seconds_since(started);
        totals.push_back(static_cast<double>(source.stats().samples));
        totals.push_back(static_cast<double>(source.stats().dropped));
        totals.push_back(elapsed > 0 ? source.stats().wait_seconds / elapsed : 0.0);
        sum_over_trainers(totals);
        std::vector<double> buffered = {static_cast<double>(source.stats().max_buffered_batches)};
        sum_over_trainers(buffered, MPI_MAX);

        comm::TrainerReport report = make_report(kind);
        evaluation->fill_report(totals, report);
        report.samples = totals[tail];
        report.dropped_samples = totals[tail + 1];
        report.wait_fraction = totals[tail + 2] / trainers;
        report.max_buffered_batches = static_cast<std::uint32_t>(buffered[0]);
        return report;
    }

    // Reduces over trainers (sum) in place; a blocking collective among trainers, which
    // all reach it at the same step.
    void sum_over_trainers(std::vector<double>& values, MPI_Op op = MPI_SUM) const {
        if (trainers == 1) return;
        comm::check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, op,
                                      comms.trainers()),
                        "MPI_Allreduce(metrics)");
    }

    void send_report(const comm::TrainerReport& report) {
        if (trainer_index != 0) return;
        outbox.push_back(report);
        MPI_Request request;
        comm::check_mpi(MPI_Isend(&outbox.back(), sizeof(comm::TrainerReport), MPI_BYTE,
                                  stream::RankLayout::coordinator_rank(), comm::kTagReport, comms.control(), &request),
                        "MPI_Isend(report)");
        sends.push_back(request);
    }

    void retire_reports(bool wait) {
        if (wait) {
            comm::wait_all(sends, "MPI_Testall(reports)");
        } else if (!comm::test_all(sends, "MPI_Testall(reports)")) {
            return;
        }
        outbox.clear();
    }

    // ---- Checkpoints ----------------------------------------------------------------

    void post_request_receive() {
        comm::check_mpi(
            MPI_Irecv(&incoming_request, sizeof incoming_request, MPI_BYTE, stream::RankLayout::coordinator_rank(),
                      comm::kTagCheckpointRequest, comms.control(), &request_receive),
            "MPI_Irecv(checkpoint request)");
    }

    void receive_requests() {
        for (;;) {
            int arrived = 0;
            comm::check_mpi(MPI_Test(&request_receive, &arrived, MPI_STATUS_IGNORE), "MPI_Test(checkpoint request)");
            if (!arrived) return;
            if (incoming_request.id > pending_request.id) pending_request = incoming_request;
            post_request_receive();
        }
    }

    // Trainers agree after every step whether to checkpoint (and stop) now: a request
    // or a signal may reach them at different steps, and they must act on the same one.
    void checkpoint_if_due() {
        if (config.out_dir.empty()) return;  // benchmarks write nothing
        receive_requests();
        // [flags, signal, request id], combined by maximum: the stop flag always comes
        // with the checkpoint flag, so the maximum of the flags is their union.
        std::int32_t want[3] = {0, 0, served_request};
        if (pending_request.id > served_request) {
            want[0] = pending_request.flags;
            want[1] = pending_request.signal;
            want[2] = pending_request.id;
        }
        if (config.checkpoint_every > 0 && step % config.checkpoint_every == 0) want[0] |= comm::kRequestCheckpoint;
        if (const int signal = checkpoint::pending_stop_signal()) {
            want[0] |= comm::kRequestCheckpoint | comm::kRequestStop;
            want[1] = signal;
        }
        if (trainers > 1) {
            std::vector<MPI_Request> agreement(1);
            comm::check_mpi(
                MPI_Iallreduce(MPI_IN_PLACE, want, 3, MPI_INT32_T, MPI_MAX, comms.trainers(), agreement.data()),
                "MPI_Iallreduce(checkpoint agreement)");
            comm::wait_all(agreement, "MPI_Test(checkpoint agreement)");
        }
        served_request = want[2];
        // After the last step the run ends normally anyway: model.h5 is its result.
        if (want[0] == 0 || step >= config.steps) return;
        write_checkpoint(want[0], want[1]);
        if (want[0] & comm::kRequestStop) stop(want[1]);
    }

    // The training clock's checkpoint part (schema::kStep ...); a resumed run reads
    // the step and elapsed time back through checkpoint::Contents.
    std::vector<io::Dataset> clock_state() const {
        return {
            io::make_dataset<std::int64_t>(schema::kStep, {step}),
            io::make_dataset<double>(schema::kElapsedSeconds, {seconds_since(started)}),
            io::make_dataset<double>(schema::kLearningRate, {learning_rate_at(config.optimizer, step, config.steps)}),
            io::make_dataset<double>(
                schema::kLearningRateSchedule,
                {static_cast<double>(config.optimizer.warmup_steps), config.optimizer.learning_rate,
                 config.optimizer.min_learning_rate, static_cast<double>(config.steps)})};
    }

    void write_checkpoint(std::int32_t flags, std::int32_t signal) {
        require_finite_parameters();  // a checkpoint of NaNs would resume into the same failure
        if (trainer_index == 0) {
            comm::TrainerReport report = make_report(comm::ReportKind::checkpoint);
            report.request_flags = flags;
            report.signal = signal;
            send_report(report);  // the coordinator joins the collective write on it
        }
        // Trainer 0 owns the replicated parts, every trainer its stream position.
        std::vector<io::Dataset> datasets;
        if (trainer_index == 0) {
            for (std::vector<io::Dataset> part : {learner->state(), norm.state(), clock_state()}) {
                std::move(part.begin(), part.end(), std::back_inserter(datasets));
            }
        }
        std::vector<io::Dataset> stream_part = checkpoint::stream_state(
            trainer_index, source.snapshot(), layout.feeders_of(trainer_index), source.config(), trainers);
        std::move(stream_part.begin(), stream_part.end(), std::back_inserter(datasets));
        checkpoints.contribute(checkpoint::checkpoint_path(config.out_dir, step), std::move(datasets));
    }

    // ---- Endings ---------------------------------------------------------------------

    // The end of a run stopped by a signal: no final evaluation and no model.h5; the
    // checkpoint just written is where it resumes.
    void stop(std::int32_t signal) {
        source.finish();
        if (trainer_index == 0) {
            comm::TrainerReport report = make_report(comm::ReportKind::stopped);
            report.request_flags = comm::kRequestStop;
            report.signal = signal;
            send_report(report);
        }
        retire_reports(true);
        cancel_request_receive();
        stopped = true;
        closed = true;
    }

    void cancel_request_receive() { comm::cancel(request_receive, "MPI_Cancel(checkpoint request receive)"); }

    void close() {
        require_finite_parameters();
        source.finish();
        const std::string sha = learner->parameter_sha256();
        // Replicas must agree bit for bit; a mismatch means the data-parallel step is broken.
        if (trainers > 1) {
            std::vector<char> all(static_cast<std::size_t>(64 * trainers));
            comm::check_mpi(MPI_Allgather(sha.data(), 64, MPI_CHAR, all.data(), 64, MPI_CHAR, comms.trainers()),
                            "MPI_Allgather(model hashes)");
            for (int t = 1; t < trainers; ++t) {
                if (std::memcmp(all.data(), all.data() + 64 * t, 64) != 0) {
                    throw std::runtime_error("trainer replicas diverged: trainer " + std::to_string(t) +
                                             " holds different parameters than trainer 0");
                }
            }
        }
        if (trainer_index == 0) {
            if (!config.model_path.empty()) {
                export_model(config.model_path, *learner, norm, task.layout(), config, step, sha);
            }
            comm::TrainerReport report = last_eval;
            report.kind = comm::ReportKind::final;
            std::snprintf(report.model_sha256, sizeof report.model_sha256, "%s", sha.c_str());
            send_report(report);
        }
        retire_reports(true);
        cancel_request_receive();
        closed = true;
    }
};

Trainer::Trainer(const stream::Communicators& comms, const stream::RankLayout& layout, const sim::Task& task,
                 const TrainConfig& config, stream::BatchSource& source, checkpoint::Writer& checkpoints,
                 const checkpoint::Contents* resume)
    : impl_(std::make_unique<Impl>(comms, layout, task, config, source, checkpoints, resume)) {}

Trainer::~Trainer() = default;

bool Trainer::poll() {
    if (impl_->closed) return false;
    if (impl_->step < impl_->config.steps) {
        impl_->train_one_step();
    } else {
        impl_->close();
    }
    return true;
}

bool Trainer::finished() const { return impl_->closed; }

bool Trainer::stopped_on_signal() const { return impl_->stopped; }

}  // namespace sgnn::train
