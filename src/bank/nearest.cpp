#include "sgnn/bank/nearest.hpp"

#include <algorithm>
#include <cstddef>
#include <numeric>

namespace sgnn::bank {

void squared_distances(const float* query, const float* bank, int width, int rows, std::vector<float>& out) {
    out.resize(static_cast<std::size_t>(rows));
    for (int i = 0; i < rows; ++i) {
        const float* b = bank + static_cast<std::size_t>(i) * static_cast<std::size_t>(width);
        float s = 0.0f;
        for (int c = 0; c < width; ++c) {
            const float d = query[c] - b[c];
            s += d * d;
        }
        out[static_cast<std::size_t>(i)] = s;
    }
}

std::vector<int> nearest(const std::vector<float>& distance, int n, int k) {
    std::vector<int> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    const auto closer = [&](int a, int b) {
        return distance[static_cast<std::size_t>(a)] < distance[static_cast<std::size_t>(b)] ||
               (distance[static_cast<std::size_t>(a)] == distance[static_cast<std::size_t>(b)] && a < b);
    };
    // Selection, not a sort: attribution asks for k = sqrt(N) of N.
    std::nth_element(order.begin(), order.begin() + (k - 1), order.end(), closer);
    order.resize(static_cast<std::size_t>(k));
    return order;
}

}  // namespace sgnn::bank
