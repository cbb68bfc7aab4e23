#include "sgnn/stream/resume.hpp"

#include <algorithm>

namespace sgnn::stream {

ConsumedBatches::ConsumedBatches(std::uint64_t watermark, const std::vector<std::uint64_t>& above)
    : watermark_(watermark), above_(above.begin(), above.end()) {}

void ConsumedBatches::mark(std::uint64_t local_batch) {
    if (local_batch < watermark_) return;
    above_.insert(local_batch);
    while (!above_.empty() && *above_.begin() == watermark_) {
        above_.erase(above_.begin());
        ++watermark_;
    }
}

bool ConsumedBatches::contains(std::uint64_t local_batch) const {
    return local_batch < watermark_ || above_.count(local_batch) > 0;
}

bool ResumePoint::skipped(std::uint64_t local_batch) const {
    return local_batch < watermark || std::binary_search(skip.begin(), skip.end(), local_batch);
}

std::uint64_t ResumePoint::next_needed(std::uint64_t from, int slot, int count) const {
    const std::uint64_t c = static_cast<std::uint64_t>(count), s = static_cast<std::uint64_t>(slot);
    std::uint64_t k = std::max(from, watermark);
    k += (s + c - k % c) % c;  // up to the slot's residue class
    while (skipped(k)) k += c;
    return k;
}

}  // namespace sgnn::stream
