// What the MPI tests of one module at a time share (tests/stream, tests/train,
// tests/coord): a task without a simulator, six inputs drawn uniformly from each
// sample's own stream and one target, their sum (a network learns it in a few dozen
// steps), whose blocks can be made slow to play a slow simulator; and the checks they
// count across ranks.
#pragma once

#include "sgnn/comm/mpi.hpp"
#include "sgnn/sim/task.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace sgnn::testing {

class FakeTask final : public sim::Task {
public:
    explicit FakeTask(double seconds_per_block = 0.0) : seconds_per_block_(seconds_per_block) {
        layout_.n_inputs = 6;
        layout_.target_names = {"x"};
    }
    const sim::SampleLayout& layout() const override { return layout_; }
    void generate_block(sim::SampleStream* rngs, int count, double, const sim::SampleRows& out,
                        char* valid) const override {
        if (seconds_per_block_ > 0) std::this_thread::sleep_for(std::chrono::duration<double>(seconds_per_block_));
        for (int j = 0; j < count; ++j) {
            float sum = 0.0f;
            for (int i = 0; i < layout_.n_inputs; ++i) {
                const auto value = static_cast<float>(rngs[j].uniform());
                out.inputs[j * layout_.n_inputs + i] = value;
                sum += value;
            }
            out.targets[j] = sum;
            out.labels[j] = 0.0f;
            valid[j] = 1;
        }
    }
    std::string describe_sample(sim::SampleStream&, double) const override { return "fake"; }
    const std::vector<std::string>& parameter_names() const override { return names_; }
    void draw_parameters(sim::SampleStream& rng, double, double* out) const override { out[0] = rng.uniform(); }
    bool simulate_from(const double*, sim::SampleStream&, float*) const override { return false; }

private:
    double seconds_per_block_;
    sim::SampleLayout layout_;
    std::vector<std::string> names_ = {"x"};
};

// Checks of an MPI test: each failed one is printed with its rank and counted.
class Checks {
public:
    explicit Checks(int rank) : rank_(rank) {}
    void expect(bool condition, const std::string& what) {
        if (condition) return;
        std::fprintf(stderr, "rank %d: FAILED: %s\n", rank_, what.c_str());
        ++failures_;
    }
    // Whether every rank's checks held: a collective over MPI_COMM_WORLD, after which
    // rank 0 prints "NAME: ok" or how many checks failed.
    bool all_passed(const std::string& name) const {
        int total = 0;
        comm::check_mpi(MPI_Allreduce(&failures_, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD),
                        "MPI_Allreduce(failures)");
        if (rank_ == 0) {
            if (total == 0) {
                std::printf("%s: ok\n", name.c_str());
            } else {
                std::printf("%s: %d checks FAILED\n", name.c_str(), total);
            }
        }
        return total == 0;
    }

private:
    int rank_;
    int failures_ = 0;
};

}  // namespace sgnn::testing
