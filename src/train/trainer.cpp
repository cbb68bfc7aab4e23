#include "sgnn/train/trainer.hpp"

#include "sgnn/clock.hpp"

#include "learner.hpp"
#include "sgnn/comm/protocol.hpp"
#include "sgnn/coord/signals.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/model_file.hpp"
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

double learning_rate_at(const OptimizerConfig& config, std::int64_t step, std::int64_t total_steps) {
    if (step < config.warmup_steps) {
        return config.learning_rate * static_cast<double>(step + 1) / static_cast<double>(config.warmup_steps);
    }
    const double span = static_cast<double>(std::max<std::int64_t>(1, total_steps - config.warmup_steps));
    const double progress = std::min(1.0, static_cast<double>(step - config.warmup_steps) / span);
    return config.min_learning_rate +
           0.5 * (config.learning_rate - config.min_learning_rate) * (1.0 + std::cos(M_PI * progress));
}

void validate(const TrainConfig& config, int n_inputs, int n_targets, int n_classes) {
    if (n_targets > comm::kMaxTargets) {
        throw ConfigError("sim.targets: at most " + std::to_string(comm::kMaxTargets) + " targets");
    }
    if (n_classes > comm::kMaxClasses) {
        throw ConfigError("sim.mixture: at most " + std::to_string(comm::kMaxClasses) + " mechanisms to classify");
    }
    check_device(config.device);
    make_network(config.model, n_inputs, n_targets + n_classes);
}

void check_device(const std::string& device) {
    if (device == "cpu") return;
    if (device == "cuda") {
        if (!torch::cuda::is_available()) {
            throw ConfigError(
                "device = cuda: this LibTorch build sees no usable CUDA GPU (Debian's libtorch is "
                "CPU-only); use device = cpu or a CUDA-enabled LibTorch");
        }
        return;
    }
    throw ConfigError("device = '" + device + "': choose cpu or cuda");
}

namespace {

// Mean and standard deviation used to standardize network inputs (one scalar: the
// curve's shape must survive) and targets (one per target, over the samples that
// have it).
struct Normalization {
    float input_mean = 0.0f, input_std = 1.0f;
    std::vector<float> target_mean, target_std;
};

// Held-out samples of this trainer's shard, standardized inputs, raw targets (NaN
// where a sample's mechanism lacks one), mechanism labels.
struct EvalShard {
    torch::Tensor inputs;
    torch::Tensor targets;
    torch::Tensor labels;
};

sim::GenerateResult generate_fixed_set(const sim::Task& task, std::uint64_t seed, sim::Purpose purpose,
                                       std::uint64_t first, int count, int threads, std::vector<float>& inputs,
                                       std::vector<float>& targets, std::vector<float>& labels) {
    const sim::SampleLayout& layout = task.layout();
    std::vector<std::uint64_t> indices(static_cast<std::size_t>(count));
    labels.resize(static_cast<std::size_t>(count));
    inputs.resize(static_cast<std::size_t>(count) * static_cast<std::size_t>(layout.n_inputs));
    targets.resize(static_cast<std::size_t>(count) * static_cast<std::size_t>(layout.n_targets()));
    const sim::GenerateResult result =
        sim::generate_samples(task, seed, purpose, first, count, 1.0,
                              {indices.data(), inputs.data(), targets.data(), labels.data(), count}, threads);
    inputs.resize(static_cast<std::size_t>(result.valid) * static_cast<std::size_t>(layout.n_inputs));
    targets.resize(static_cast<std::size_t>(result.valid) * static_cast<std::size_t>(layout.n_targets()));
    labels.resize(static_cast<std::size_t>(result.valid));
    return result;
}

LossSpec loss_spec(const sim::SampleLayout& layout, const TrainConfig& config) {
    LossSpec spec;
    spec.n_targets = layout.n_targets();
    spec.n_classes = layout.n_classes();
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
    coord::CheckpointWriter& checkpoints;
    int trainer_index;
    int trainers;
    torch::Device device;
    Normalization norm;
    EvalShard eval;
    std::unique_ptr<Learner> learner;

    std::int64_t step = 0;
    bool closed = false;
    std::chrono::steady_clock::time_point started;
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
    bool stopped = false;

    Impl(const stream::Communicators& c, const stream::RankLayout& l, const sim::Task& t, const TrainConfig& cfg,
         stream::BatchSource& s, coord::CheckpointWriter& w, const coord::CheckpointContents* resume)
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
            if (resume != nullptr) {
                restore_normalization(*resume);
            } else {
                compute_normalization();
            }
            build_eval_shard();
        }
        learner = std::make_unique<Learner>(config.model, config.optimizer, loss_spec(sample, config), sample.n_inputs,
                                            comms.trainers(), device, config.seed);
        double elapsed = 0.0;
        if (resume != nullptr) {
            try {
                learner->load_state(resume->model);
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

    void restore_normalization(const coord::CheckpointContents& resume) {
        const auto values = [&](const std::string& name) {
            const auto it = resume.model.find("model/normalization/" + name);
            if (it == resume.model.end()) {
                throw ConfigError("checkpoint " + resume.path + ": missing model/normalization/" + name);
            }
            return it->second.as<float>();
        };
        norm.input_mean = values("input_mean").at(0);
        norm.input_std = values("input_std").at(0);
        norm.target_mean = values("target_mean");
        norm.target_std = values("target_std");
        if (norm.target_mean.size() != static_cast<std::size_t>(task.layout().n_targets())) {
            throw ConfigError("checkpoint " + resume.path + ": normalization for " +
                              std::to_string(norm.target_mean.size()) + " targets, but this run has " +
                              std::to_string(task.layout().n_targets()));
        }
    }

    // Every trainer computes the same statistics from the `norm` stream (deterministic).
    void compute_normalization() {
        std::vector<float> inputs, targets, labels;
        const sim::GenerateResult result = generate_fixed_set(task, config.seed, sim::Purpose::norm, 0,
                                                              config.norm_samples, 1, inputs, targets, labels);
        const int n_t = task.layout().n_targets();
        const std::size_t n = labels.size();
        if (n < 2) {
            sim::SampleStream example(config.seed, sim::Purpose::norm, result.first_dropped);
            throw std::runtime_error("the simulator dropped " + std::to_string(result.dropped) + " of " +
                                     std::to_string(config.norm_samples) + " normalization samples, for example " +
                                     task.describe_sample(example, 1.0) +
                                     ". Narrow the priors (prior.NAME) or choose targets defined everywhere");
        }
        double sum = 0, sum_sq = 0;
        for (float v : inputs) {
            sum += v;
            sum_sq += static_cast<double>(v) * v;
        }
        const double count = static_cast<double>(inputs.size());
        norm.input_mean = static_cast<float>(sum / count);
        norm.input_std = static_cast<float>(std::sqrt(std::max(1e-12, sum_sq / count - (sum / count) * (sum / count))));
        for (int j = 0; j < n_t; ++j) {
            double s = 0, ss = 0, present = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const double v = targets[i * static_cast<std::size_t>(n_t) + static_cast<std::size_t>(j)];
                if (std::isnan(v)) continue;  // this sample's mechanism lacks the target
                s += v;
                ss += v * v;
                ++present;
            }
            if (present < 2) {
                throw std::runtime_error("fewer than 2 of " + std::to_string(n) +
                                         " normalization samples have target '" +
                                         task.layout().target_names[static_cast<std::size_t>(j)] +
                                         "': raise the weight of the mechanisms that have it in sim.mixture");
            }
            const double mean = s / present;
            const double var = std::max(1e-12, ss / present - mean * mean);
            norm.target_mean.push_back(static_cast<float>(mean));
            norm.target_std.push_back(static_cast<float>(std::sqrt(var)));
        }
    }

    torch::Tensor standardize_inputs(const float* data, std::int64_t rows) const {
        const std::int64_t n_in = task.layout().n_inputs;
        torch::Tensor x = torch::from_blob(const_cast<float*>(data), {rows, n_in}, torch::kFloat);
        return ((x - norm.input_mean) / norm.input_std).to(device);
    }

    torch::Tensor standardize_targets(const float* data, std::int64_t rows) const {
        const std::int64_t n_t = task.layout().n_targets();
        torch::Tensor y = torch::from_blob(const_cast<float*>(data), {rows, n_t}, torch::kFloat);
        const torch::Tensor mean = torch::tensor(norm.target_mean);
        const torch::Tensor std = torch::tensor(norm.target_std);
        return ((y - mean) / std).to(device);
    }

    void build_eval_shard() {
        const std::uint64_t total = static_cast<std::uint64_t>(config.eval_samples);
        const std::uint64_t lo =
            total * static_cast<std::uint64_t>(trainer_index) / static_cast<std::uint64_t>(trainers);
        const std::uint64_t hi =
            total * static_cast<std::uint64_t>(trainer_index + 1) / static_cast<std::uint64_t>(trainers);
        std::vector<float> inputs, targets, labels;
        generate_fixed_set(task, config.seed, sim::Purpose::eval, lo, static_cast<int>(hi - lo), 1, inputs, targets,
                           labels);
        const std::int64_t rows = static_cast<std::int64_t>(labels.size());
        eval.inputs = standardize_inputs(inputs.data(), rows).clone();
        eval.targets = torch::from_blob(targets.data(), {rows, task.layout().n_targets()}, torch::kFloat)
                           .to(torch::kDouble)
                           .clone();
        eval.labels = torch::from_blob(labels.data(), {rows}, torch::kFloat).to(torch::kLong).clone();
    }

    // Reduces over trainers (sum) in place; a blocking collective among trainers, which
    // all reach it at the same step.
    void sum_over_trainers(std::vector<double>& values, MPI_Op op = MPI_SUM) const {
        if (trainers == 1) return;
        comm::check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, op,
                                      comms.trainers()),
                        "MPI_Allreduce(metrics)");
    }

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

    // Held-out metrics (all trainers take part) and exact run-wide counters.
    comm::TrainerReport evaluate(comm::ReportKind kind) {
        const int n_t = task.layout().n_targets(), n_c = task.layout().n_classes();
        const torch::Tensor mean = torch::tensor(norm.target_mean).to(torch::kDouble);
        const torch::Tensor std = torch::tensor(norm.target_std).to(torch::kDouble);
        const auto zeros = [](std::int64_t n) { return torch::zeros({n}, torch::kDouble); };
        // Per target, over the samples that have it: count, squared error, sum, sum of squares.
        torch::Tensor count = zeros(n_t), sse = zeros(n_t), sum_y = zeros(n_t), sum_yy = zeros(n_t);
        double cross_entropy = 0.0;
        torch::Tensor confusion = zeros(static_cast<std::int64_t>(n_c) * n_c);  // row: true class, column: predicted
        const std::int64_t rows = eval.inputs.size(0);
        for (std::int64_t lo = 0; lo < rows; lo += 1024) {
            const std::int64_t hi = std::min(rows, lo + 1024);
            const torch::Tensor outputs =
                learner->predict(eval.inputs.slice(0, lo, hi)).to(torch::kCPU, torch::kDouble);
            const torch::Tensor y = eval.targets.slice(0, lo, hi);
            const torch::Tensor present = torch::isfinite(y);
            const torch::Tensor weight = present.to(torch::kDouble);
            const torch::Tensor clean = torch::where(present, y, torch::zeros_like(y));
            const torch::Tensor predicted = outputs.slice(1, 0, n_t) * std + mean;
            count += weight.sum(0);
            sse += ((predicted - clean).pow(2) * weight).sum(0);
            sum_y += clean.sum(0);
            sum_yy += clean.pow(2).sum(0);
            if (n_c > 0) {
                const torch::Tensor logits = outputs.slice(1, n_t, n_t + n_c);
                const torch::Tensor labels = eval.labels.slice(0, lo, hi);
                cross_entropy +=
                    torch::nn::functional::cross_entropy(
                        logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                        .item<double>();
                const torch::Tensor cell = labels * n_c + logits.argmax(1);
                confusion += torch::bincount(cell, {}, static_cast<std::int64_t>(n_c) * n_c).to(torch::kDouble);
            }
        }
        // One reduction: [n, count, sse, sum_y, sum_yy (n_t each), cross-entropy, confusion
        // (n_c x n_c), samples, dropped, wait fraction]
        std::vector<double> totals;
        totals.push_back(static_cast<double>(rows));
        for (const torch::Tensor* t : {&count, &sse, &sum_y, &sum_yy}) {
            for (int j = 0; j < n_t; ++j) totals.push_back((*t)[j].item<double>());
        }
        totals.push_back(cross_entropy);
        for (std::int64_t k = 0; k < confusion.numel(); ++k) totals.push_back(confusion[k].item<double>());
        const double elapsed = seconds_since(started);
        totals.push_back(static_cast<double>(source.stats().samples));
        totals.push_back(static_cast<double>(source.stats().dropped));
        totals.push_back(elapsed > 0 ? source.stats().wait_seconds / elapsed : 0.0);
        sum_over_trainers(totals);
        std::vector<double> buffered = {static_cast<double>(source.stats().max_buffered_batches)};
        sum_over_trainers(buffered, MPI_MAX);

        comm::TrainerReport report = make_report(kind);
        const double n = totals[0];
        const auto total = [&](int block, int j) { return totals[1 + static_cast<std::size_t>(block * n_t + j)]; };
        double eval_loss = 0.0;
        for (int j = 0; j < n_t; ++j) {
            const double m = total(0, j), e = total(1, j), sy = total(2, j), syy = total(3, j);
            const double sst = syy - sy * sy / m;
            report.eval_r2[j] = sst > 0 ? 1.0 - e / sst : std::numeric_limits<double>::quiet_NaN();
            report.eval_rmse[j] = std::sqrt(e / m);
            const double s = norm.target_std[static_cast<std::size_t>(j)];
            eval_loss += e / (n * s * s) / n_t;  // as the training loss: masked entries count as 0
        }
        std::size_t tail = 1 + 4 * static_cast<std::size_t>(n_t);
        if (n_c > 0) {
            report.eval_cross_entropy = totals[tail] / n;
            double correct = 0.0;
            for (int k = 0; k < n_c * n_c; ++k) {
                report.eval_confusion[k] = totals[tail + 1 + static_cast<std::size_t>(k)];
                if (k / n_c == k % n_c) correct += report.eval_confusion[k];
            }
            report.eval_accuracy = correct / n;
            eval_loss += config.class_weight * report.eval_cross_entropy;
        }
        tail += 1 + static_cast<std::size_t>(n_c) * static_cast<std::size_t>(n_c);
        report.eval_loss = eval_loss;
        report.samples = totals[tail];
        report.dropped_samples = totals[tail + 1];
        report.wait_fraction = totals[tail + 2] / trainers;
        report.max_buffered_batches = static_cast<std::uint32_t>(buffered[0]);
        return report;
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

    // Training cannot recover from a NaN or an infinity, and a model made of them must
    // never be written as if it were fine: the job stops naming the step and the causes.
    [[noreturn]] void stop_on_non_finite(const std::string& what) const {
        throw std::runtime_error(
            "step " + std::to_string(step + 1) + ": " + what +
            "; training stopped and no model.h5 was written. Likely causes: inputs or targets that are not finite "
            "(a corpus with NaN in rows marked valid, a simulator or prior that yields inf), or a learning rate too "
            "high for this network (train.lr = " +
            format_number(config.optimizer.learning_rate) + ")");
    }

    void require_finite_parameters() const {
        const std::string bad = learner->first_non_finite_parameter();
        if (!bad.empty()) stop_on_non_finite("parameter " + bad + " holds a NaN or an infinity");
    }

    void train_one_step() {
        const stream::BatchBuffer& batch = source.acquire();
        const std::int64_t rows = batch.header().sample_count;
        if (rows > 0) {
            torch::Tensor x = standardize_inputs(batch.inputs(), rows);
            if (step + 1 == config.debug_poison_step) x = x * std::numeric_limits<float>::quiet_NaN();
            const torch::Tensor y = standardize_targets(batch.targets(), rows);
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
        if (const int signal = coord::pending_stop_signal()) {
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

    void write_checkpoint(std::int32_t flags, std::int32_t signal) {
        require_finite_parameters();  // a checkpoint of NaNs would resume into the same failure
        if (trainer_index == 0) {
            comm::TrainerReport report = make_report(comm::ReportKind::checkpoint);
            report.request_flags = flags;
            report.signal = signal;
            send_report(report);  // the coordinator joins the collective write on it
        }
        std::vector<io::Dataset> datasets;
        if (trainer_index == 0) {
            datasets = learner->state_datasets();
            const auto n_t = static_cast<std::uint64_t>(norm.target_mean.size());
            datasets.push_back(io::make_dataset<float>("model/normalization/input_mean", {norm.input_mean}));
            datasets.push_back(io::make_dataset<float>("model/normalization/input_std", {norm.input_std}));
            datasets.push_back(io::make_dataset("model/normalization/target_mean", norm.target_mean, {n_t}));
            datasets.push_back(io::make_dataset("model/normalization/target_std", norm.target_std, {n_t}));
            datasets.push_back(io::make_dataset<std::int64_t>("train/step", {step}));
            datasets.push_back(io::make_dataset<double>("train/elapsed_seconds", {seconds_since(started)}));
            datasets.push_back(io::make_dataset<double>("train/learning_rate",
                                                        {learning_rate_at(config.optimizer, step, config.steps)}));
            datasets.push_back(io::make_dataset<double>(
                "train/lr_schedule",
                {static_cast<double>(config.optimizer.warmup_steps), config.optimizer.learning_rate,
                 config.optimizer.min_learning_rate, static_cast<double>(config.steps)}));
        }
        const std::vector<io::Dataset> stream_state = coord::stream_state_datasets(
            trainer_index, source.snapshot(), layout.feeders_of(trainer_index), source.config(), trainers);
        datasets.insert(datasets.end(), stream_state.begin(), stream_state.end());
        checkpoints.contribute(coord::checkpoint_path(config.out_dir, step), std::move(datasets));
    }

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
            if (!config.model_path.empty()) write_model(sha);
            comm::TrainerReport report = last_eval;
            report.kind = comm::ReportKind::final;
            std::snprintf(report.model_sha256, sizeof report.model_sha256, "%s", sha.c_str());
            send_report(report);
        }
        retire_reports(true);
        cancel_request_receive();
        closed = true;
    }

    void write_model(const std::string& sha) const {
        io::ModelFile file;
        file.parameters = learner->parameter_arrays();
        const auto n_t = static_cast<std::uint64_t>(norm.target_mean.size());
        file.normalization = {
            {"input_mean", {1}, {norm.input_mean}},
            {"input_std", {1}, {norm.input_std}},
            {"target_mean", {n_t}, norm.target_mean},
            {"target_std", {n_t}, norm.target_std},
        };
        const std::string targets = join_list(task.layout().target_names);
        const std::string classes =
            join_list(task.layout().class_names);  // the logits after the targets, in this order
        file.attributes = {
            {"format", "sgnn-model"},
            {"model", config.model.type},
            {"hidden", std::to_string(config.model.hidden)},
            {"blocks", std::to_string(config.model.blocks)},
            {"channels", std::to_string(config.model.channels)},
            {"kernel", std::to_string(config.model.kernel)},
            {"n_inputs", std::to_string(task.layout().n_inputs)},
            {"input_channels", std::to_string(task.layout().n_channels)},
            {"targets", targets},
            {"classes", classes},
            {"steps", std::to_string(step)},
            {"seed", std::to_string(config.seed)},
            {"sha256", sha},
            {"prediction",
             "target = output * normalization/target_std + normalization/target_mean for the first "
             "len(targets) outputs; the rest are logits of the classes (softmax: P(mechanism | data)); "
             "input = (x - input_mean) / input_std, x the observed series after obs.transform "
             "(log1p by default), channels one after the other"},
        };
        io::write_model_file(config.model_path, file);
    }
};

Trainer::Trainer(const stream::Communicators& comms, const stream::RankLayout& layout, const sim::Task& task,
                 const TrainConfig& config, stream::BatchSource& source, coord::CheckpointWriter& checkpoints,
                 const coord::CheckpointContents* resume)
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
