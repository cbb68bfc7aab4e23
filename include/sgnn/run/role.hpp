// The roles a rank plays, as the rank loop sees them.
//
// A rank is the coordinator, a trainer, a simulator worker, or a mix (the coordinator
// also simulates when no rank is left for it; one process holds every role). Each role
// makes progress in small steps that never block, so one thread can interleave them:
// the loop polls every role the rank plays until all are finished (run/run.cpp,
// run_training, builds them from the rank layout).
#pragma once

#include <functional>
#include <vector>

namespace sgnn::run {

class Role {
public:
    virtual ~Role() = default;
    // One unit of work, without waiting; returns whether anything happened.
    virtual bool poll() = 0;
    // Whether the role is done; the rank leaves the loop when all its roles are.
    virtual bool finished() const = 0;
};

// Any object with poll() and finished() as a Role: coord::Coordinator,
// stream::SimulatorWorker and train::Trainer keep no dependency on the run.
template <class T>
class RoleOf final : public Role {
public:
    explicit RoleOf(T& role) : role_(role) {}
    bool poll() override { return role_.poll(); }
    bool finished() const override { return role_.finished(); }

private:
    T& role_;
};

// Polls `roles` in order, round after round, until all are finished; backs off
// (comm/backoff.hpp) through rounds in which none made progress. `before_each_round`
// runs at the start of every round that polls (the test hook of debug.fail_rank).
void poll_until_finished(const std::vector<Role*>& roles, const std::function<void()>& before_each_round);

}  // namespace sgnn::run
