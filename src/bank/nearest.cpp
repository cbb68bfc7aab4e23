#include "sgnn/bank/nearest.hpp"

#include <algorithm>
#include <cstddef>
#include <numeric>

namespace sgnn::bank {

namespace {

template <typename Real>
void squared_distances_in(const float* query, const float* bank, int width, int rows, std::vector<Real>& out) {
    out.resize(static_cast<std::size_t>(rows));
    for (int i = 0; i < rows; ++i) {
        const float* b = bank + static_cast<std::size_t>(i) * static_cast<std::size_t>(width);
        Real s = 0;
        for (int c = 0; c < width; ++c) {
            const Real d = static_cast<Real>(b[c]) - static_cast<Real>(query[c]);
            s += d * d;
        }
        out[static_cast<std::size_t>(i)] = s;
    }
}

template <typename Real>
std::vector<int> nearest_in(const std::vector<Real>& distance, int n, int k) {
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

}  // namespace

void squared_distances(const float* query, const float* bank, int width, int rows, std::vector<float>& out) {
    squared_distances_in(query, bank, width, rows, out);
}

void squared_distances(const float* query, const float* bank, int width, int rows, std::vector<double>& out) {
    squared_distances_in(query, bank, width, rows, out);
}

std::vector<int> nearest(const std::vector<float>& distance, int n, int k) { return nearest_in(distance, n, k); }

std::vector<int> nearest(const std::vector<double>& distance, int n, int k) { return nearest_in(distance, n, k); }

}  // namespace sgnn::bank
