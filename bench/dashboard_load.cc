// Load on `fersweep serve`: CLIENTS threads for SECONDS, each asking in turn for the sweep's
// summary, a leaderboard page (at a random offset, sorted by the objective) and a trial (a random
// id), as fast as the server answers or every PAUSE_MS. Prints Markdown rows: per endpoint,
// requests, p50, p95, max.
//
//   build/bench/dashboard_load PORT CLIENTS SECONDS TRIALS [PAUSE_MS [SWEEP]]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace {

using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fputs("usage: dashboard_load PORT CLIENTS SECONDS TRIALS [PAUSE_MS [SWEEP]]\n", stderr);
    return 2;
  }
  const int port = std::stoi(argv[1]), clients = std::stoi(argv[2]);
  const double seconds = std::stod(argv[3]);
  const int trials = std::stoi(argv[4]);
  const int pause_ms = argc > 5 ? std::stoi(argv[5]) : 0;
  const int sweep = argc > 6 ? std::stoi(argv[6]) : 1;
  std::mutex mutex;
  std::vector<double> summary_ms, board_ms, trial_ms;
  std::atomic<int> failures = 0;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      std::mt19937_64 rng(static_cast<uint64_t>(c) + 1);
      std::vector<double> mine_summary, mine_board, mine_trial;
      for (int i = 0; Clock::now() < end; ++i) {
        // What a dashboard asks in turn: the sweep's summary, a leaderboard page (at a random
        // offset: deep pages too), a trial.
        const int kind = i % 3;
        const std::string path =
            kind == 0   ? fmt::format("/api/sweeps/{}", sweep)
            : kind == 1 ? fmt::format("/api/sweeps/{}/trials?limit=50&offset={}", sweep,
                                      rng() % static_cast<uint64_t>(std::max(1, trials - 50)))
                        : fmt::format("/api/trials/{}", 1 + rng() % static_cast<uint64_t>(trials));
        const auto start = Clock::now();
        const auto reply = client.Get(path.c_str());
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (!reply || reply->status != 200) ++failures;
        (kind == 0 ? mine_summary : kind == 1 ? mine_board : mine_trial).push_back(ms);
        if (pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
      }
      std::lock_guard<std::mutex> lock(mutex);
      summary_ms.insert(summary_ms.end(), mine_summary.begin(), mine_summary.end());
      board_ms.insert(board_ms.end(), mine_board.begin(), mine_board.end());
      trial_ms.insert(trial_ms.end(), mine_trial.begin(), mine_trial.end());
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& [name, v] :
       {std::pair{"sweep summary (counts, best)", &summary_ms},
        std::pair{"leaderboard page (50 rows)", &board_ms}, std::pair{"trial", &trial_ms}}) {
    fmt::print("| {} | {} | {:.0f}/s | {:.1f} | {:.1f} | {:.1f} |\n", name, v->size(),
               static_cast<double>(v->size()) / seconds, percentile(*v, 0.5), percentile(*v, 0.95),
               v->empty() ? 0.0 : *std::max_element(v->begin(), v->end()));
  }
  if (failures > 0) fmt::print("failed requests: {}\n", failures.load());
  return failures > 0 ? 1 : 0;
}
