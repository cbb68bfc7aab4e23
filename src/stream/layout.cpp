#include "sgnn/stream/layout.hpp"

#include "sgnn/error.hpp"

#include <algorithm>
#include <string>

namespace sgnn::stream {

RankLayout::RankLayout(int world_size, int trainers) : world_size_(world_size), trainers_(trainers) {
    if (trainers < 1) throw ConfigError("trainers = " + std::to_string(trainers) + ": must be at least 1");
    if (world_size == 1) {
        if (trainers != 1) {
            throw ConfigError("trainers = " + std::to_string(trainers) +
                              ": a run without mpiexec has 1 process, so trainers must be 1; " + "launch at least " +
                              std::to_string(trainers + 1) + " ranks (1 coordinator + " + std::to_string(trainers) +
                              " trainers) for more");
        }
        return;
    }
    if (trainers >= world_size) {
        throw ConfigError("trainers = " + std::to_string(trainers) + ": must be below the number of MPI ranks (" +
                          std::to_string(world_size) + "), since rank 0 is the coordinator; allowed range [1, " +
                          std::to_string(world_size - 1) + "]");
    }
    for (int rank = trainers + 1; rank < world_size; ++rank) simulator_ranks_.push_back(rank);
    if (simulator_ranks_.empty()) simulator_ranks_.push_back(coordinator_rank());
}

bool RankLayout::is_trainer(int rank) const { return trainer_index(rank) >= 0; }

int RankLayout::trainer_index(int rank) const {
    if (single_process()) return rank == 0 ? 0 : -1;
    return (rank >= 1 && rank <= trainers_) ? rank - 1 : -1;
}

bool RankLayout::is_simulator(int rank) const {
    return std::find(simulator_ranks_.begin(), simulator_ranks_.end(), rank) != simulator_ranks_.end();
}

int RankLayout::dedicated_simulators() const { return single_process() ? 0 : world_size_ - 1 - trainers_; }

// With S >= T simulators, simulator s feeds trainer s mod T (each trainer gets every
// T-th simulator). With S < T, trainer t is fed by simulator t mod S, so one
// simulator serves several trainers.
std::vector<int> RankLayout::feeders_of(int trainer_index) const {
    std::vector<int> feeders;
    const int s_count = static_cast<int>(simulator_ranks_.size());
    if (s_count == 0) return feeders;
    if (s_count >= trainers_) {
        for (int s = trainer_index; s < s_count; s += trainers_) feeders.push_back(simulator_ranks_[s]);
    } else {
        feeders.push_back(simulator_ranks_[trainer_index % s_count]);
    }
    return feeders;
}

std::vector<Lane> RankLayout::lanes_of(int simulator_rank) const {
    std::vector<Lane> lanes;
    for (int t = 0; t < trainers_; ++t) {
        const std::vector<int> feeders = feeders_of(t);
        for (std::size_t j = 0; j < feeders.size(); ++j) {
            if (feeders[j] == simulator_rank) {
                lanes.push_back({t, trainer_rank(t), static_cast<int>(j), static_cast<int>(feeders.size())});
            }
        }
    }
    return lanes;
}

}  // namespace sgnn::stream
